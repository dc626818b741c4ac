"""A new message on a thread that waits for an approval: a clear answer naming the order and
how to answer it; the approval stays listed and answerable, through the API and the stream."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.store import TradeLog
from interfaces.desk_host import DeskHost
from tests.interfaces.conftest import auth


def test_a_message_on_a_waiting_thread_keeps_the_approval(client: TestClient, host: DeskHost):
    asked = client.post("/v1/chat/big", json={"message": "buy 3 BTC"}, headers=auth("trader"))
    order_id = asked.json()["pending"]["order"]["order_id"]
    for message in ("what is our exposure?", "buy 0.01 BTC"):
        turn = client.post("/v1/chat/big", json={"message": message}, headers=auth("trader"))
        assert turn.status_code == 200
        [answer] = turn.json()["answers"]
        assert order_id in answer
        assert "quantdesk approvals approve big" in answer
        assert turn.json()["pending"]["order"]["order_id"] == order_id
    streamed = client.post(
        "/v1/chat/big/stream", json={"message": "sell 1 BTC"}, headers=auth("trader")
    )
    assert order_id in streamed.text
    assert "waiting for an approval" in streamed.text
    # Nothing ran on the thread: no order went out, the approval is still there.
    assert TradeLog(host.session.store).fills() == []
    listed = client.get("/v1/approvals", headers=auth("viewer")).json()
    assert [p["thread_id"] for p in listed] == ["big"]
    answered = client.post(
        "/v1/approvals/big/approve", json={"reason": "ok"}, headers=auth("approver")
    )
    assert answered.status_code == 200
    assert answered.json()["results"]["execution"]["status"] == "filled"
    [fill] = TradeLog(host.session.store).fills()
    assert str(fill["order_id"]) == order_id
    assert fill["quantity"] == pytest.approx(3)
