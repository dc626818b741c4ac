"""Domain models refuse bad input at the boundary, with the field named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.models import Bar, Instrument, Order, OrderType, Side, TimeInForce

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def bar(**overrides: object) -> Bar:
    fields: dict[str, object] = dict(
        venue_id="kraken",
        symbol="BTC/USD",
        interval="1d",
        ts=NOW,
        open=100.0,
        high=110.0,
        low=90.0,
        close=105.0,
        volume=5.0,
    )
    return Bar(**(fields | overrides))


def test_a_consistent_bar_is_accepted_and_frozen():
    b = bar()
    with pytest.raises(ValidationError):
        b.close = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"close": float("nan")}, "close"),
        ({"high": float("inf")}, "high"),
        ({"open": -1.0}, "open"),
        ({"low": 0.0}, "low"),
        ({"volume": -3.0}, "volume"),
        ({"ts": datetime(2024, 1, 2)}, "ts"),
        ({"interval": "7m"}, "interval"),
        ({"symbol": "BTC USD'; DROP"}, "symbol"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_bar_fields_are_refused_by_name(overrides: dict[str, object], field: str):
    with pytest.raises(ValidationError) as info:
        bar(**overrides)
    assert field in str(info.value)


def test_inconsistent_ohlc_is_refused():
    with pytest.raises(ValidationError, match="high is below"):
        bar(high=95.0)
    with pytest.raises(ValidationError, match="low is above"):
        bar(low=101.0)


def test_instrument_bounds_must_be_ordered():
    base = dict(
        venue_id="kraken",
        symbol="BTC/USD",
        base="BTC",
        quote="USD",
        asset_class="crypto",
        tick_size=0.1,
        lot_size=0.0001,
        min_quantity=0.0001,
        max_quantity=100.0,
    )
    assert Instrument(**base).instrument_id == "BTC/USD@kraken"
    with pytest.raises(ValidationError, match="min_quantity must not exceed"):
        Instrument(**(base | {"min_quantity": 200.0}))
    with pytest.raises(ValidationError, match="tick_size"):
        Instrument(**(base | {"tick_size": 0.0}))


def test_order_type_and_price_must_agree():
    base = dict(
        client_order_id="c1",
        strategy_id="s",
        account_id="a",
        venue_id="paper",
        symbol="BTC/USD",
        side=Side.BUY,
        quantity=1.0,
        created_at=NOW,
    )
    Order(**base, order_type=OrderType.LIMIT, limit_price=100.0)
    with pytest.raises(ValidationError, match="limit order needs"):
        Order(**base, order_type=OrderType.LIMIT)
    with pytest.raises(ValidationError, match="market order takes no"):
        Order(**base, order_type=OrderType.MARKET, limit_price=1.0)
    with pytest.raises(ValidationError, match="expire_at is required"):
        Order(**base, order_type=OrderType.MARKET, time_in_force=TimeInForce.GTD)
    with pytest.raises(ValidationError, match="quantity"):
        Order(**(base | {"quantity": float("nan")}), order_type=OrderType.MARKET)
