"""US equities through Alpaca (alpaca-py) against a loopback server speaking Alpaca's trading
API: REST for orders, account and positions, and the trade-update websocket. Orders reach
Alpaca only after the gate; fills are booked in the same ledger as the crypto venue and
reconciled; a closed market refuses an order without sending it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from core.models.trading import Order, Side, TradingState
from core.settings import Settings
from core.store import Store
from gateway import Gateway
from gateway.live import LiveExecutor
from gateway.venues import VenueError
from gateway.venues.alpaca_venue import AlpacaVenue, TradeUpdates
from tests.fakes.alpaca_trading import FakeAlpaca, serve_alpaca
from tests.gateway_fixtures import T0, limits, limits_dict, order

KEY, SECRET = "PKTESTALPACA0001", "alpaca-secret-very-private-77d1"
GOOG = {"id": "alpaca:GOOG", "tick": 0.01, "lot": 1.0, "min_quantity": 1.0,
        "max_quantity": 1000.0, "max_notional": 300000.0, "max_position": 2000.0}  # fmt: skip


def goog(side: Side, qty: float, price: float | None) -> Order:
    return order(side, qty, price, symbol="GOOG").model_copy(update={"venue_id": "alpaca"})


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with serve_alpaca(KEY, SECRET, cash=100_000.0, price=150.0) as f:
        yield f


def gateway_for(store: Store) -> Gateway:
    data = limits_dict(starting_cash=100_000.0)
    data["instruments"] = [GOOG]
    gateway = Gateway(limits(**data), venue="external", store=store, clock=lambda: T0)
    gateway.set_reference("alpaca", "GOOG", 150.0)
    return gateway


def venue(fake: FakeAlpaca, secret: str = SECRET) -> AlpacaVenue:
    return AlpacaVenue(
        SecretStr(KEY), SecretStr(secret), api_url=fake.api_url, stream_url=fake.stream_url
    )


@pytest.fixture
def live(fake: FakeAlpaca, store: Store) -> LiveExecutor:
    return LiveExecutor(gateway_for(store), venue(fake), venue_id="alpaca")


def test_a_limit_order_fills_through_the_trade_update_stream_and_reconciles(
    live: LiveExecutor, fake: FakeAlpaca
):
    assert live.reconcile().ok
    assert isinstance(live.venue, AlpacaVenue)
    updates = TradeUpdates(live.venue).start()
    try:
        buy = goog(Side.BUY, 10, 150.0)
        assert live.submit(buy).accepted
        [(_, _, sent)] = fake.requests
        assert (sent["symbol"], sent["qty"], sent["side"], sent["type"]) == (
            "GOOG", 10, "buy", "limit",
        )  # fmt: skip
        assert sent["client_order_id"] == buy.client_order_id
        assert live.gateway.order_status(buy.order_id) == ("accepted", 0.0, 10.0)
        [venue_id] = fake.orders
        fake.fill_now(venue_id, 4, 149.5)
        assert updates.take(timeout=10) == [venue_id]
        live.sync_venue_orders([venue_id])
        assert live.gateway.order_status(buy.order_id) == ("partially_filled", 4.0, 6.0)
        live.sync_venue_orders([venue_id])  # heard twice: booked once
        assert live.gateway.order_status(buy.order_id) == ("partially_filled", 4.0, 6.0)
        fake.fill_now(venue_id, 6, 150.0)
        live.sync_venue_orders(updates.take(timeout=10))
        assert live.gateway.order_status(buy.order_id) == ("filled", 10.0, 0.0)
    finally:
        updates.stop()
    [position] = live.gateway.positions()
    assert (position.symbol, position.quantity) == ("GOOG", 10.0)
    assert position.average_price == pytest.approx((4 * 149.5 + 6 * 150.0) / 10)
    report = live.reconcile()
    assert report.ok, report
    assert fake.cash == pytest.approx(live.gateway.account().cash)


def test_a_market_order_fills_at_the_venue_price(live: LiveExecutor, fake: FakeAlpaca):
    buy = goog(Side.BUY, 5, None)
    assert live.submit(buy).accepted
    assert live.gateway.order_status(buy.order_id) == ("filled", 5.0, 0.0)
    assert fake.positions == {"GOOG": 5.0}
    assert live.reconcile().ok


def test_a_closed_market_refuses_the_order_without_sending_it(
    live: LiveExecutor, fake: FakeAlpaca, store: Store
):
    fake.is_open = False
    buy = goog(Side.BUY, 10, 150.0)
    assert live.submit(buy).accepted, "the gate accepted; the venue's hours refused"
    assert live.gateway.order_status(buy.order_id) == ("rejected", 0.0, 0.0)
    assert fake.requests == []
    [(codes,)] = store.client.query(
        "SELECT reason_codes FROM audit_log WHERE kind = 'venue.error'"
    ).result_rows
    assert codes == ["VENUE_MARKET_CLOSED"]
    assert live.gateway.positions() == []
    assert live.gateway.trading_state is TradingState.ACTIVE


def test_a_denied_order_never_reaches_alpaca(live: LiveExecutor, fake: FakeAlpaca):
    decision = live.submit(goog(Side.BUY, 5000, 150.0))
    assert not decision.accepted
    assert "QUANTITY_ABOVE_MAX" in decision.reason_codes
    assert fake.requests == []


def test_bad_keys_are_refused_recorded_and_never_shown(
    fake: FakeAlpaca, store: Store, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    forged = venue(fake, secret="not-the-alpaca-secret")
    live = LiveExecutor(gateway_for(store), forged, venue_id="alpaca")
    buy = goog(Side.BUY, 10, 150.0)
    assert live.submit(buy).accepted
    assert live.gateway.order_status(buy.order_id) == ("rejected", 0.0, 0.0)
    assert fake.orders == {}
    [(codes, payload)] = store.client.query(
        "SELECT reason_codes, payload FROM audit_log WHERE kind = 'venue.error'"
    ).result_rows
    assert codes == ["VENUE_AUTH"]
    with pytest.raises(VenueError, match="VENUE_AUTH") as info:
        forged.balances()
    for text in (caplog.text, payload, str(info.value), repr(forged)):
        assert "not-the-alpaca-secret" not in text


def test_reconciliation_flags_shares_the_ledger_does_not_hold(live: LiveExecutor, fake: FakeAlpaca):
    fake.positions["GOOG"] = 3.0  # bought outside the desk
    report = live.reconcile()
    assert not report.ok
    assert [(m.currency, m.ours, m.venue) for m in report.balance_mismatches] == [
        ("GOOG", 0.0, 3.0)
    ]
    assert live.gateway.trading_state is TradingState.REDUCING


def test_keys_come_from_settings_and_the_paper_endpoint_is_the_default(fake: FakeAlpaca):
    with pytest.raises(VenueError, match="VENUE_NO_KEYS"):
        AlpacaVenue.from_settings(Settings())
    settings = Settings(
        alpaca_api_key=SecretStr(KEY), alpaca_api_secret=SecretStr(SECRET),  # type: ignore[call-arg]
        alpaca_api_url=fake.api_url,
    )  # fmt: skip
    made = AlpacaVenue.from_settings(settings)
    assert made.paper
    assert made.market_open()
    assert SECRET not in repr(made)
    assert SECRET not in repr(settings)
