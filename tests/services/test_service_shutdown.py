"""`quantdesk agent <name>` stops gracefully on SIGTERM (systemd, Kubernetes, `docker stop`)
and SIGINT (Ctrl-C) alike: the services close (execution flushes its gateway and lets go of
the store) and the process exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.store import Store
from core.store.audit import AuditLog
from tests.waiting import wait_until


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_the_execution_service_shuts_down_gracefully(
    desk_dir: Path, hub: str, stop: signal.Signals
):
    env = os.environ | {
        "QUANTDESK_DATA_DIR": str(desk_dir), "QUANTDESK_BUS_HUB": hub,
        "QUANTDESK_LOG_JSON": "false",
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", "agent", "execution"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def ready() -> bool:
        assert process.poll() is None, "".join(seen)
        return "execution ready\n" in seen

    try:
        wait_until(ready, 120, what="execution ready", show=lambda: "".join(seen))
    finally:
        process.send_signal(stop)
        # The bound: closing one service takes well under a second when idle.
        process.wait(timeout=30)
        reader.join(timeout=5)
    output = "".join(seen)
    assert process.returncode == 0, output
    assert f"stopped by {stop.name}: execution closed" in output
    # The store opens here again and holds the gate's audit (its start in REDUCING, waiting
    # for risk's heartbeats).
    with Store(f"chdb://{desk_dir / 'clickhouse'}") as store:
        assert AuditLog(store).count("gate.trading_state") >= 1
