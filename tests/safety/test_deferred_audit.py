"""The PM's decision row is journaled before the turn answers and written to the audit log off
the turn's path: killed before or after that write, a restart has it exactly once; in one
process it reaches the log without anyone asking, and before the desk host reads the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from interfaces.desk_host import DeskHost
from tests.safety.conftest import ROOT
from tests.waiting import wait_until

REQUEST = "what is our exposure? (deferred drill)"

_ASK_THEN_WAIT = f"""
import sys, time
from pathlib import Path
from core.settings import Settings
from graph.session import DeskSession
session = DeskSession(Settings(data_dir=Path(sys.argv[1]), log_json=False))
session.ask({REQUEST!r}, "drill")
print("answered", flush=True)
time.sleep(60)
"""

_DECISIONS = "SELECT toString(event_id), payload FROM audit_log WHERE kind = 'pm.decision'"


def _decisions(store: Store) -> list[tuple[str, str]]:
    rows = store.client.query(_DECISIONS).result_rows
    return [(str(event_id), str(payload)) for event_id, payload in rows if REQUEST in payload]


def _killed_at(desk_dir: Path, point: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env |= {"QUANTDESK_CRASH_AT": point, "QUANTDESK_LOG_JSON": "false"}
    killed = subprocess.run(
        [sys.executable, "-c", _ASK_THEN_WAIT, str(desk_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    return killed


@pytest.mark.parametrize(
    ("point", "in_log_at_kill"), [("decision.journaled", False), ("decision.written", True)]
)
def test_a_turn_killed_around_its_decision_row_has_it_once_after_a_restart(
    desk_dir: Path, point: str, in_log_at_kill: bool
):
    killed = _killed_at(desk_dir, point)
    # Journaled before the answer: the kill at `decision.journaled` comes first.
    assert ("answered" in killed.stdout) is in_log_at_kill
    with Store(f"chdb://{desk_dir / 'clickhouse'}") as store:
        assert bool(_decisions(store)) is in_log_at_kill
    with DeskSession(Settings(data_dir=desk_dir, log_json=False)) as session:
        rows = _decisions(session.store)
        assert len(rows) == 1, rows
        assert session.desk.gateway.journal is not None
        assert session.desk.gateway.journal.held_audit() == []
        assert '"routed_by": "rules"' in rows[0][1]


def test_the_row_reaches_the_log_on_its_own_and_before_the_host_reads(desk_dir: Path):
    settings = Settings(data_dir=desk_dir, log_json=False)
    with DeskSession(settings) as session:
        session.ask(REQUEST, "a")
        wait_until(lambda: _decisions(session.store), what="the writer wrote the decision row")
        host = DeskHost(session)
        # The writer waits for the lock the host holds through a turn; the read writes first.
        with host.lock:
            host.ask(REQUEST, "b")
            assert len(host.read(lambda desk: _decisions(desk.store))) == 2


def test_a_closed_session_leaves_nothing_held(desk_dir: Path):
    settings = Settings(data_dir=desk_dir, log_json=False)
    with DeskSession(settings) as session:
        journal = session.desk.gateway.journal
        assert journal is not None
        session.desk.gateway.store_lock.acquire()  # the writer cannot write before the close
        try:
            session.ask(REQUEST, "a")
            assert len(journal.held_audit()) == 1
        finally:
            session.desk.gateway.store_lock.release()
    with Store(f"chdb://{desk_dir / 'clickhouse'}") as store:
        assert len(_decisions(store)) == 1
