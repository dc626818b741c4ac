"""Live orders through ccxt against a loopback server speaking Bitstamp's private REST API:
signed requests, placing, fills, cancels, kill switch and start-up reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from core.models.trading import Side, TradingState
from core.settings import Settings
from core.store import Store
from gateway import Gateway
from gateway.live import LiveExecutor
from gateway.venues import CcxtVenue, VenueError
from tests.fakes.bitstamp_trading import FakeBitstampTrading, serve_bitstamp_trading
from tests.gateway_fixtures import T0, limits, limits_dict, order

KEY, SECRET = "qd-test-key-7f3a", "qd-test-secret-very-private-91c2"


def btc(side: Side, qty: float, price: float | None):
    return order(side, qty, price).model_copy(update={"venue_id": "bitstamp"})


@pytest.fixture
def fake() -> Iterator[FakeBitstampTrading]:
    with serve_bitstamp_trading(
        KEY, SECRET, {"usd": "100000", "btc": "0"}, {"btcusd": "30000"}
    ) as f:
        yield f


@pytest.fixture
def live(fake: FakeBitstampTrading, store: Store) -> LiveExecutor:
    data = limits_dict(starting_cash=100_000.0)
    data["instruments"][0]["id"] = "bitstamp:BTC/USD"
    gateway = Gateway(limits(**data), venue="external", store=store, clock=lambda: T0)
    gateway.set_reference("bitstamp", "BTC/USD", 30_000.0)
    venue = CcxtVenue("bitstamp", SecretStr(KEY), SecretStr(SECRET), api_url=fake.api_url)
    return LiveExecutor(gateway, venue, venue_id="bitstamp")


def posts(fake: FakeBitstampTrading, prefix: str) -> list[dict[str, str]]:
    return [form for path, form in fake.requests if path.startswith(prefix)]


def test_startup_reconciliation_of_a_matching_account_is_clean(live: LiveExecutor):
    report = live.reconcile()
    assert report.ok, report
    assert live.gateway.trading_state is TradingState.ACTIVE


def test_an_accepted_order_is_placed_signed_filled_and_canceled(
    live: LiveExecutor, fake: FakeBitstampTrading
):
    buy = btc(Side.BUY, 0.1, 29_000.0)
    assert live.submit(buy).accepted
    [placed] = posts(fake, "/api/v2/buy/btcusd/")
    assert placed == {"amount": "0.1", "price": "29000", "client_order_id": buy.client_order_id}
    assert all(h["X-Auth"] == f"BITSTAMP {KEY}" for h in fake.auth_headers)
    assert live.gateway.order_status(buy.order_id) == ("accepted", 0.0, 0.1)
    [venue_order] = fake.orders.values()
    fake.fill(venue_order.id, "0.04", "29000", "0.58")
    live.sync()
    assert live.gateway.order_status(buy.order_id) == (
        "partially_filled",
        0.04,
        pytest.approx(0.06),
    )
    # The rest fills at the venue while our cancel is on its way: the fill is booked.
    fake.fill(venue_order.id, "0.01", "29000", "0.145")
    live.cancel(buy.order_id)
    status = live.gateway.order_status(buy.order_id)
    assert status == ("canceled", pytest.approx(0.05), 0.0)
    assert venue_order.status == "Canceled"
    [position] = live.gateway.positions()
    assert position.quantity == pytest.approx(0.05)
    assert live.gateway.account().cash == pytest.approx(100_000 - 0.05 * 29_000 - 0.725)
    assert live.reconcile().ok, "our ledger matches the venue's balances after the fills"


def test_market_orders_fill_at_the_venue_price(live: LiveExecutor, fake: FakeBitstampTrading):
    buy = btc(Side.BUY, 0.2, None)
    assert live.submit(buy).accepted
    assert len(posts(fake, "/api/v2/buy/market/btcusd/")) == 1
    assert live.gateway.order_status(buy.order_id) == ("filled", 0.2, 0.0)
    assert live.gateway.positions()[0].average_price == 30_000.0
    assert live.reconcile().ok


def test_a_denied_order_never_reaches_the_venue(live: LiveExecutor, fake: FakeBitstampTrading):
    decision = live.submit(btc(Side.BUY, 0.1, 45_000.0))
    assert decision.reason_codes == ("PRICE_OUTSIDE_COLLAR",)
    assert posts(fake, "/api/v2/buy") == []
    with pytest.raises(ValueError, match="trades bitstamp"):
        live.submit(order(Side.BUY, 0.1, 30_000.0))


def test_venue_refusals_are_recorded_and_the_order_is_rejected(
    fake: FakeBitstampTrading, store: Store, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    data = limits_dict(starting_cash=100_000.0)
    data["instruments"][0]["id"] = "bitstamp:BTC/USD"
    gateway = Gateway(limits(**data), venue="external", store=store, clock=lambda: T0)
    gateway.set_reference("bitstamp", "BTC/USD", 30_000.0)
    forged = CcxtVenue(
        "bitstamp", SecretStr(KEY), SecretStr("not-the-secret"), api_url=fake.api_url
    )
    live = LiveExecutor(gateway, forged, venue_id="bitstamp")
    buy = btc(Side.BUY, 0.1, 29_000.0)
    assert live.submit(buy).accepted, "the gate accepted; the venue refused"
    assert gateway.order_status(buy.order_id) == ("rejected", 0.0, 0.0)
    assert fake.orders == {}, "a request with a bad signature places nothing"
    [row] = store.client.query(
        "SELECT reason_codes, payload FROM audit_log WHERE kind = 'venue.error'"
    ).result_rows
    assert row[0] == ["VENUE_AUTH"]
    assert "not-the-secret" not in caplog.text
    assert "not-the-secret" not in row[1]
    with pytest.raises(VenueError, match="VENUE_AUTH") as info:
        forged.balances()
    assert "not-the-secret" not in str(info.value)


def test_kill_switch_cancels_at_the_venue(live: LiveExecutor, fake: FakeBitstampTrading):
    ids = [live.submit(btc(Side.BUY, 0.1, 29_000.0 - k)).order_id for k in range(3)]
    canceled = live.kill_switch("human:alice", "exchange incident")
    assert set(canceled) == set(ids)
    assert {o.status for o in fake.orders.values()} == {"Canceled"}
    assert all(live.gateway.order_status(i)[0] == "canceled" for i in ids)  # type: ignore[index]
    assert live.gateway.trading_state is TradingState.HALTED
    assert live.submit(btc(Side.BUY, 0.1, 29_000.0)).reason_codes == ("TRADING_HALTED",)


def test_reconciliation_flags_unknown_orders_and_balance_drift(
    live: LiveExecutor, fake: FakeBitstampTrading, store: Store
):
    fake.place(
        "btcusd", 1, {"amount": "0.3", "price": "31000", "client_order_id": "manual-1"}, None
    )
    fake.balances["btc"] = Decimal("0.5")
    report = live.reconcile()
    assert not report.ok
    assert len(report.unknown_venue_orders) == 1
    assert [(m.currency, m.ours, m.venue) for m in report.balance_mismatches] == [("BTC", 0.0, 0.5)]
    assert live.gateway.trading_state is TradingState.REDUCING
    assert live.submit(btc(Side.BUY, 0.1, 29_000.0)).reason_codes == ("REDUCING_ONLY",)
    [[actor]] = store.client.query(
        "SELECT actor FROM audit_log WHERE kind = 'venue.reconciliation'"
    ).result_rows
    assert actor == "reconciliation"


def test_keys_come_from_settings_and_never_show(monkeypatch: pytest.MonkeyPatch, fake):
    monkeypatch.setenv("QUANTDESK_VENUE_API_KEY", KEY)
    monkeypatch.setenv("QUANTDESK_VENUE_API_SECRET", SECRET)
    monkeypatch.setenv("QUANTDESK_VENUE_API_URL", fake.api_url)
    settings = Settings()
    venue = CcxtVenue.from_settings(settings)
    assert venue.balances()["USD"].total == 100_000.0
    assert SECRET not in repr(venue)
    assert SECRET not in repr(settings)
    assert SECRET not in settings.model_dump_json()
    monkeypatch.delenv("QUANTDESK_VENUE_API_SECRET")
    with pytest.raises(VenueError, match="VENUE_NO_KEYS"):
        CcxtVenue.from_settings(Settings())
