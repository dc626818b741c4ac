"""The data service reaches the store through its owner (execution) over the bus: real
datasets load through quality control, idempotently; an unknown dataset is refused; the
monitor, polling the owner, reports the stale series that arrive."""

from __future__ import annotations

from core.bus import Bus, IngestRequest, Keys
from tests.services.conftest import Launch, state
from tests.waiting import wait_until


def test_ingest_through_the_store_owner(launch: Launch, peer: Bus):
    alerts: list[str] = []
    peer.subscribe(Keys.ALL_ALERTS, lambda m, k: alerts.append(m.text))
    launch("execution")
    launch("data")
    launch("monitor", QUANTDESK_MONITOR_POLL_S="0.5", QUANTDESK_MONITOR_AGENTS='["execution"]')
    state(peer)
    ask = IngestRequest(datasets=["goog"], requested_by="test")
    first = peer.request(Keys.rpc("data", "ingest"), ask, timeout=120)
    assert first.ok, first.error
    assert first.body["goog"]["stored"] == 2148
    # GOOG's bars end in 2013, the desk's clock in 2020: the monitor calls it stale.
    wait_until(
        lambda: any(a.startswith("stale data: nasdaq:GOOG:1d") for a in alerts),
        10,
        what="the monitor's stale-data alert",
        show=lambda: alerts,
    )
    again = peer.request(Keys.rpc("data", "ingest"), ask, timeout=120)
    assert again.body["goog"] == {"stored": 0, "quarantined": 0, "already_held": 2148}
    refused = peer.request(
        Keys.rpc("data", "ingest"),
        IngestRequest(datasets=["goog", "../../etc/passwd"], requested_by="test"),
    )
    assert not refused.ok
    assert "unknown datasets ['../../etc/passwd']" in (refused.error or "")
