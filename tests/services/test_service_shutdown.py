"""`quantdesk agent <name>` stops gracefully on SIGTERM (systemd, Kubernetes, `docker stop`)
and SIGINT (Ctrl-C) alike: the services close (execution flushes its gateway and lets go of
the store) and the process exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import Store
from core.store.audit import AuditLog


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
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if line.strip() == "execution ready" or time.monotonic() > deadline:
                break
        assert "execution ready\n" in seen, "".join(seen)
    finally:
        process.send_signal(stop)
        # The bound: closing one service takes well under a second when idle.
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"stopped by {stop.name}: execution closed" in output
    # The store opens here again and holds the gate's audit (its start in REDUCING, waiting
    # for risk's heartbeats).
    with Store(f"chdb://{desk_dir / 'clickhouse'}") as store:
        assert AuditLog(store).count("gate.trading_state") >= 1
