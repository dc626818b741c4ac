"""The data service reaches the store through its owner (execution) over the bus: real
datasets load through quality control, idempotently; an unknown dataset is refused."""

from __future__ import annotations

from core.bus import Bus, IngestRequest, Keys
from tests.services.conftest import Launch, state


def test_ingest_through_the_store_owner(launch: Launch, peer: Bus):
    launch("execution")
    launch("data")
    state(peer)
    ask = IngestRequest(datasets=["goog"], requested_by="test")
    first = peer.request(Keys.rpc("data", "ingest"), ask, timeout=120)
    assert first.ok, first.error
    assert first.body["goog"]["stored"] == 2148
    again = peer.request(Keys.rpc("data", "ingest"), ask, timeout=120)
    assert again.body["goog"] == {"stored": 0, "quarantined": 0, "already_held": 2148}
    refused = peer.request(
        Keys.rpc("data", "ingest"),
        IngestRequest(datasets=["goog", "../../etc/passwd"], requested_by="test"),
    )
    assert not refused.ok
    assert "unknown datasets ['../../etc/passwd']" in (refused.error or "")
