"""A real Prometheus (Debian's package), started here on loopback with the scrape config
from deploy/prometheus, scrapes the execution service and sees the metrics move as orders
flow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from core.bus import Bus, Keys, OrderRequest
from tests.fakes.loopback import free_port
from tests.services.conftest import Launch, until_gate
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(metrics port for the service, Prometheus's own port)."""
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed (`make test` installs Debian's package)")
        pytest.skip("prometheus not installed (apt-get install prometheus; `make test` does)")
    metrics, web = free_port(), free_port()
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["scrape_configs"][0]["static_configs"] = [
        {"targets": [f"127.0.0.1:{metrics}"], "labels": {"agent": "execution"}}
    ]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [binary, f"--config.file={path}", f"--web.listen-address=127.0.0.1:{web}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield metrics, web
    finally:
        process.terminate()
        process.wait(timeout=20)


def query(web: int, expr: str) -> float:
    url = f"http://127.0.0.1:{web}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body = json.loads(answer.read())
    except OSError:
        return -1.0
    results = body["data"]["result"]
    return sum(float(r["value"][1]) for r in results) if results else -1.0


def test_prometheus_sees_orders_move_the_metrics(
    launch: Launch, peer: Bus, prometheus: tuple[int, int]
):
    metrics, web = prometheus
    launch("execution", QUANTDESK_METRICS_PORT=str(metrics))
    launch("risk")
    until_gate(peer, "active", 15)
    wait_until(
        lambda: query(web, "quantdesk_trading_state") == 0.0,
        30,
        step=0.5,
        what="Prometheus scraping the gate active",
        show=lambda: query(web, "quantdesk_trading_state"),
    )
    assert query(web, "quantdesk_orders_total") <= 0
    for quantity, symbol in ((0.1, "BTC"), (0.2, "BTC"), (1e9, "BTC")):
        peer.request(
            Keys.rpc("execution", "submit"),
            OrderRequest(side="buy", quantity=quantity, symbol=symbol, requested_by="test"),
        )
    wait_until(
        lambda: query(web, "quantdesk_orders_total") == 3.0,
        30,
        step=0.5,
        what="Prometheus scraping three orders",
        show=lambda: query(web, "quantdesk_orders_total"),
    )
    assert query(web, 'quantdesk_orders_total{verdict="ACCEPT"}') == 2.0
    assert query(web, 'quantdesk_denials_total{reason="QUANTITY_ABOVE_MAX"}') >= 1.0
    assert query(web, "quantdesk_fills_total") == 2.0
    assert query(web, "quantdesk_gate_seconds_count") == 3.0
    assert query(web, 'up{job="quantdesk"}') == 1.0
