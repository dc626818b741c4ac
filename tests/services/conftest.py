"""Agents as real processes on a loopback Zenoh bus: `quantdesk agent <name>` subprocesses,
a store with real BTC bars owned by the execution service, and a bus peer for the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from agents.services.runtime import Service
from core.bus import Bus, BusError, Control, Reply
from core.bus.keys import Keys
from core.models.market import SessionCalendar
from core.store import Store
from gateway.limits import DEFAULT_LIMITS
from tests.fakes.loopback import free_port
from tests.waiting import wait_until
from tools.ingest.pipeline import ingest_bars

Launch = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def desk_dir(tmp_path: Path, bitstamp_btc_raw: pd.DataFrame) -> Path:
    """A data dir whose store holds real Bitstamp BTC/USD daily bars (for prices)."""
    with Store(f"chdb://{tmp_path / 'desk' / 'clickhouse'}") as store:
        store.migrate()
        ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return tmp_path / "desk"


@pytest.fixture
def tight_limits(tmp_path: Path) -> Path:
    """The default limits with a 50k gross-exposure cap, so a 2.5 BTC buy breaches risk's 90%."""
    text = DEFAULT_LIMITS.read_text().replace(
        "max_gross_exposure = 1_500_000.0", "max_gross_exposure = 50_000.0"
    )
    path = tmp_path / "limits.toml"
    path.write_text(text)
    return path


@pytest.fixture
def hub() -> str:
    return f"tcp/127.0.0.1:{free_port()}"


OUTPUT: dict[str, list[str]] = {}


def drain(process: subprocess.Popen[str], name: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        OUTPUT.setdefault(name, []).append(line)


@pytest.fixture
def launch(desk_dir: Path, hub: str) -> Iterator[Launch]:
    started: list[subprocess.Popen[str]] = []

    def start(name: str, via_cli: bool = False, **env: str) -> subprocess.Popen[str]:
        """`python -m agents.services <name>`, or the `quantdesk agent <name>` command."""
        environment = os.environ | {
            "QUANTDESK_DATA_DIR": str(desk_dir), "QUANTDESK_BUS_HUB": hub,
            "QUANTDESK_LOG_JSON": "false", "QUANTDESK_HEARTBEAT_INTERVAL_S": "0.1",
            "QUANTDESK_DEADMAN_REDUCE_AFTER_S": "1.0", "QUANTDESK_DEADMAN_HALT_AFTER_S": "2.5",
        } | env  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli", "agent", name]
            if via_cli
            else [sys.executable, "-m", "agents.services", name],
            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started.append(process)
        lines = OUTPUT.setdefault(name, [])
        first = len(lines)
        # Read from the start, so a chatty service never blocks on a full pipe.
        reader = threading.Thread(target=drain, args=(process, name), daemon=True)
        reader.start()

        def ready() -> bool:
            exited = process.poll() is not None
            if exited:
                reader.join(timeout=5)  # the rest of what it wrote
            if any(line.strip() == f"{name} ready" for line in lines[first:]):
                return True
            assert not exited, f"{name} exited {process.returncode}:\n{''.join(lines[first:])}"
            return False

        wait_until(ready, 120, what=f"{name} ready", show=lambda: "".join(lines[first:]))
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def peer(hub: str) -> Iterator[Bus]:
    with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub]) as bus:
        yield bus


def state(bus: Bus, patience: float = 15.0) -> Reply:
    """Execution's state; the first call may wait while this peer's connection to the hub
    comes up (Zenoh retries it in the background)."""
    errors: list[BusError] = []

    def answered() -> Reply | None:
        try:
            return bus.request(Keys.rpc("execution", "control"), Control(action="state"), 1.0)
        except BusError as exc:
            errors.append(exc)
            return None

    return wait_until(
        answered, patience, what="execution's answer over the bus", show=lambda: errors[-1:]
    )


def until_gate(bus: Bus, want: str, timeout: float) -> None:
    """Until execution says its gate is `want` (active, reducing, halted)."""
    wait_until(
        lambda: state(bus).body["state"] == want,
        timeout,
        what=f"the gate {want}",
        show=lambda: state(bus).body,
    )


def ticks_of(service: Service, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many ticks `service`'s loop has finished from now on. A test that checks that a
    tick did *not* do something waits for ticks to pass, not for time."""
    done = [0]
    tick = service.tick

    def counted() -> None:
        try:
            tick()
        finally:
            done[0] += 1

    monkeypatch.setattr(service, "tick", counted)
    return lambda: done[0]


def heard(bus: Bus, key: str, timeout: float = 10.0, *, request: bool = False) -> None:
    """Until a subscriber on `key` (with `request`, a queryable) is known to `bus`, Zenoh's
    matching status: what it publishes or asks there now reaches someone, rather than going
    nowhere while the peers still meet."""
    session = bus.session
    probe = session.declare_querier(key) if request else session.declare_publisher(key)
    try:
        wait_until(
            lambda: probe.matching_status.matching,
            timeout,
            what=f"a {'queryable' if request else 'subscriber'} on {key} that this bus reaches",
        )
    finally:
        probe.undeclare()  # type: ignore[no-untyped-call]
