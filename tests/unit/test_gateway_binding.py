"""The compiled Rust gateway, called from Python."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import UUID

import pytest

import gateway
from core.models.trading import Order, Side, TimeInForce
from gateway._core import Engine, GatewayError, OrderRequest
from gateway.decisions import GateDecision, Verdict
from gateway.recorder import to_ms
from tests.gateway_fixtures import T0, limits, order


def test_the_extension_is_the_compiled_module():
    assert gateway.__version__ == "0.1.0"
    assert gateway._core.__file__ is not None
    assert gateway._core.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize(
    ("value", "increment", "on_grid"),
    [
        (0.3, 0.1, True),
        (101.25, 0.25, True),
        (101.26, 0.25, False),
        (65432.1, 0.1, True),
        (0.015, 0.01, False),
    ],
)
def test_values_are_checked_against_the_grid(value: float, increment: float, on_grid: bool):
    assert gateway.is_on_increment(value, increment) is on_grid


@pytest.mark.parametrize(
    ("value", "increment", "code"),
    [
        (math.nan, 0.1, "VALUE_NOT_FINITE"),
        (math.inf, 0.1, "VALUE_NOT_FINITE"),
        (1.0, 0.0, "INCREMENT_NOT_POSITIVE"),
        (1.0, -1.0, "INCREMENT_NOT_POSITIVE"),
    ],
)
def test_bad_numbers_raise_with_a_reason_code(value: float, increment: float, code: str):
    with pytest.raises(ValueError, match=code):
        gateway.is_on_increment(value, increment)


def test_wrong_types_raise_type_errors():
    with pytest.raises(TypeError):
        gateway.is_on_increment("1.0", 0.1)  # type: ignore[arg-type]


def _by_keywords(o: Order) -> OrderRequest:
    """The request written out keyword by keyword, as the engine's form takes it."""
    return OrderRequest(
        order_id=str(o.order_id),
        client_order_id=o.client_order_id,
        account_id=o.account_id,
        strategy_id=o.strategy_id,
        instrument_id=f"{o.venue_id}:{o.symbol}",
        side=o.side.value,
        order_type=o.order_type.value,
        quantity=o.quantity,
        price=o.limit_price,
        time_in_force=o.time_in_force.value,
        expire_at_ms=int(o.expire_at.timestamp() * 1000) if o.expire_at else None,
        reduce_only=o.reduce_only,
    )


@pytest.mark.parametrize(
    "made",
    [
        order(),
        order(Side.SELL, 0.3, None),
        order(quantity=0.1234567, price=30_000.5),  # off the lot and the tick
        order(symbol="DOGE/USD"),  # an instrument the limits do not list
        order(symbol="D" * 60 + "/USD"),  # a key too long for the stack: made on the heap
        order(strategy="nobody"),
        order(reduce_only=True),
        order(tif=TimeInForce.GTD, expire_at=T0 + timedelta(milliseconds=1_500)),
        order(tif=TimeInForce.GTD, expire_at=T0 - timedelta(milliseconds=1)),  # in the past
        order().model_copy(update={"order_id": UUID(int=1)}),  # leading zeros in the id
        order().model_copy(update={"order_id": UUID(int=(1 << 128) - 1)}),
        order().model_copy(update={"account_id": "someone-else"}),
    ],
)
def test_an_order_model_crosses_as_its_keywords_would(made: Order):
    engine = Engine(limits().to_engine_json())
    version = limits().limits_version
    engine.set_reference("paper:BTC/USD", 30_000.0, to_ms(T0))
    fast, slow = OrderRequest.of_order(made), _by_keywords(made)
    assert repr(fast) == repr(slow)
    assert fast.order_id == str(made.order_id)
    for now in (to_ms(T0), to_ms(T0) + 1_499, to_ms(T0) + 1_500):
        assert engine.check(fast, now) == engine.check(slow, now)
        # The typed path reads the model in place and must decide exactly as the request does.
        decided = engine.decide_order(made, now)
        assert isinstance(decided, GateDecision)
        expected = GateDecision.of(made.order_id, engine.check(slow, now), version)
        assert decided == expected
        assert decided.order_id is made.order_id


def test_the_typed_check_reads_the_wall_clock_when_given_no_time():
    """The desk's path passes no time: the engine's clock decides whether an order has
    expired, as Python's would."""
    engine = Engine(limits().to_engine_json())
    now = datetime.now(UTC)
    engine.set_reference("paper:BTC/USD", 30_000.0, to_ms(now))
    live = order(tif=TimeInForce.GTD, expire_at=now + timedelta(hours=1))
    gone = order(tif=TimeInForce.GTD, expire_at=now - timedelta(hours=1))
    assert engine.decide_order(live).verdict is Verdict.ACCEPT
    refused = engine.decide_order(gone)
    assert refused.verdict is Verdict.DENY
    assert refused.reason_codes == engine.decide_order(gone, to_ms(now)).reason_codes != ()
    assert refused.limits_version == limits().limits_version


def test_the_in_place_check_sees_a_resubmitted_order_as_the_same():
    """An order waiting for approval, checked again as itself, is no duplicate; another order
    reusing its id is."""
    engine = Engine(limits().to_engine_json())
    engine.set_reference("paper:BTC/USD", 30_000.0, to_ms(T0))
    big = order(quantity=5.0)
    assert engine.submit(OrderRequest.of_order(big), None, to_ms(T0))[0] == "NEEDS_APPROVAL"
    assert "DUPLICATE_CLIENT_ORDER_ID" not in engine.decide_order(big, to_ms(T0)).reason_codes
    changed = big.model_copy(update={"quantity": 4.0})
    assert "DUPLICATE_CLIENT_ORDER_ID" in engine.decide_order(changed, to_ms(T0)).reason_codes


def test_an_object_without_an_orders_fields_is_refused():
    made = order()
    with pytest.raises(AttributeError):
        OrderRequest.of_order(made.model_dump())  # a dict, not an order
    engine = Engine(limits().to_engine_json())
    with pytest.raises(AttributeError):
        engine.decide_order(made.model_dump(), 0)
    with pytest.raises(GatewayError, match="not an order model: no field"):
        engine.decide_order(SimpleNamespace(order_id=made.order_id), 0)
    bad_side = SimpleNamespace(**{**dict(made), "side": "hold"})
    with pytest.raises(GatewayError, match="BAD_ARGUMENT: side"):
        OrderRequest.of_order(bad_side)
