"""`quantdesk serve` as a user starts it: its own process on loopback, an admin key made for
a fresh data directory (mode 0600), the page, the API, the scheduler and the agent services on
the bus up; stopped by the test with SIGTERM (systemd, Kubernetes, `docker stop`) or SIGINT
(Ctrl-C), and either way it shuts down through the same close."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.store import Store
from tests.fakes.loopback import free_port
from tests.waiting import wait_until


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_serve_starts_on_loopback_and_shuts_down_gracefully(tmp_path: Path, stop: signal.Signals):
    data = tmp_path / "desk"
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ, "QUANTDESK_DATA_DIR": str(data), "QUANTDESK_LOG_JSON": "false",
        "QUANTDESK_BUS_HUB": f"tcp/127.0.0.1:{free_port()}",
    }  # fmt: skip
    env.pop("QUANTDESK_API_KEYS", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interfaces.cli",
            "serve",
            "--port",
            str(port),
            "--metrics-port",
            str(metrics_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                return httpx.get(url, timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, 60, step=0.2, what=f"serve's page at {url}")
        key_file = data / "api-key"
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        key = {"X-API-Key": key_file.read_text().strip()}
        assert httpx.get(f"{url}/v1/health").status_code == 401
        # The gate turns ACTIVE at the in-process risk service's first heartbeat.
        wait_until(
            lambda: httpx.get(f"{url}/v1/health", headers=key).json()["gateway_state"] == "active",
            15,
            step=0.1,
            what="the gate active",
        )
        jobs = httpx.get(f"{url}/v1/schedule", headers=key).json()
        assert {j["name"] for j in jobs} == {"ingest", "risk-review", "nightly-cycle"}
        assert all(j["next_run"] for j in jobs)
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        assert "quantdesk_llm_cost_usd_total" in httpx.get(metrics).text
        # The monitor hears risk's heartbeats; the gate's state is exported.
        wait_until(
            lambda: 'quantdesk_agent_up{agent="risk"} 1.0' in httpx.get(metrics).text,
            15,
            step=0.1,
            what="the monitor's risk-up metric",
        )
        assert "quantdesk_trading_state 0.0" in httpx.get(metrics).text
    finally:
        server.send_signal(stop)
        # The bound: a graceful stop drains HTTP and closes everything well within it.
        output, _ = server.communicate(timeout=60)
    # Exit 0, not SIGTERM's own -15 (shell: 143), which would mean the close never ran.
    assert server.returncode == 0, output
    assert f"serve stopped by {stop.name}" in output
    # The shutdown's audit row was written by the closing desk; the store opens again, so
    # the process let go of it.
    with Store(f"chdb://{data / 'clickhouse'}") as store:
        rows = store.client.query(
            "SELECT actor, payload FROM audit_log WHERE kind = 'serve.shutdown'"
        ).result_rows
    assert [(actor, json.loads(payload)["signal"]) for actor, payload in rows] == [
        ("serve", stop.name)
    ]
    assert f"QuantDesk on http://127.0.0.1:{port}/" in output
    assert "admin API key" in output
    assert "agent services on the bus" in output
