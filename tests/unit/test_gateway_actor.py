"""The typed actor, and the engine agreeing with it on who may rearm."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from gateway import Actor, GatewayError
from gateway._core import Engine, OrderRequest
from tests.gateway_fixtures import limits_dict


def test_constructors_print_the_desks_spelling() -> None:
    assert str(Actor.human("alice")) == "human:alice"
    assert str(Actor.agent("risk")) == "agent:risk"
    assert str(Actor.service("execution")) == "service:execution"
    assert Actor.parse("human:Alice Smith") == Actor(kind="human", name="Alice Smith")
    assert Actor.human("alice").is_human
    assert not Actor.agent("pm").is_human


def test_actors_are_frozen() -> None:
    actor = Actor.agent("risk")
    with pytest.raises(ValidationError):
        actor.kind = "human"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    ["risk-agent", "", "risk", "Human:alice", "robot:r2", "human:", "human: alice",
     "human:alice ", "human:al\nice", "human:" + "a" * 59],
)  # fmt: skip
def test_anything_but_kind_colon_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)actor"):
        Actor.parse(text)


CASES = [
    "human:alice", "human:Alice Smith", "human:a:b", "agent:risk", "service:execution",
    "risk-agent", "risk", "", "Human:alice", "human:", "human: alice", "human:alice\t",
    "human:" + "a" * 58, "human:" + "a" * 59,
]  # fmt: skip


@pytest.mark.parametrize("text", CASES)
def test_the_engine_and_the_model_agree_on_who_may_rearm(text: str) -> None:
    """The engine parses the text itself; the Python model is the same rule, typed."""
    engine = Engine(json.dumps(limits_dict()))
    engine.kill("agent:risk", "drill", 0)
    engine.drain_events()
    try:
        may = Actor.parse(text).is_human
    except ValueError:
        may = False
    if may:
        engine.rearm(text, "drill over", 1)
        assert engine.account_state == "active"
        return
    with pytest.raises(GatewayError, match=r"^REARM_REFUSED: "):
        engine.rearm(text, "drill over", 1)
    assert engine.account_state == "halted"
    (event,) = engine.drain_events()
    assert event["kind"] == "rearm.refused"
    assert event["requested_reason"] == "drill over"


def test_restored_orders_are_closed_and_their_ids_are_taken() -> None:
    engine = Engine(json.dumps(limits_dict()))
    engine.on_trade("paper:BTC/USD", 0, 30_000.0, 5.0)
    engine.restore_order("o-1", "c-1", "filled", 0.5)
    engine.restore_order("o-2", "c-2", "accepted", 0.0)
    with pytest.raises(GatewayError, match="BAD_ARGUMENT"):
        engine.restore_order("o-3", "c-3", "bogus", 0.0)
    assert engine.order_status("o-1") == ("filled", 0.5, 0.0)
    assert engine.order_status("o-2") == ("accepted", 0.0, 0.0)
    assert engine.open_order_ids() == []

    def buy(order_id: str, client_id: str) -> OrderRequest:
        return OrderRequest(
            order_id=order_id, client_order_id=client_id, account_id="paper",
            strategy_id="momentum", instrument_id="paper:BTC/USD", side="buy",
            order_type="limit", quantity=0.1, price=29_900.0,
        )  # fmt: skip

    for order_id, client_id in (("o-2", "c-new"), ("o-new", "c-1")):
        verdict, codes = engine.submit(buy(order_id, client_id), None, 1)
        assert (verdict, codes) == ("DENY", ["DUPLICATE_CLIENT_ORDER_ID"])
    assert engine.open_quantities("paper:BTC/USD") == (0.0, 0.0)
    assert engine.submit(buy("o-4", "c-4"), None, 1)[0] == "ACCEPT"
    with pytest.raises(GatewayError, match="before the first order"):
        engine.restore_order("o-5", "c-5", "filled", 1.0)
