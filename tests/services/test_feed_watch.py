"""Streamed bars as the services hear them on the bus: the data service reports each feed's
lag behind the desk's clock, and the monitor alerts when a feed that was streaming goes
quiet, and again when it flows once more. Real service processes on a loopback Zenoh bus;
the bars come from this test's peer as the stream dataflow publishes them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from core.bus import Alert, Bus, BusError, Keys
from core.bus.messages import MarketBar
from tests.services.conftest import Launch
from tests.waiting import wait_until
from tools.stream.feeds import FeedBook


def bar(at: datetime) -> MarketBar:
    return MarketBar(
        instrument="binance:BTC/USDT", interval="1m", bar_ts=at,
        open=100, high=101, low=99, close=100.5, volume=3,
    )  # fmt: skip


def test_a_feed_book_keeps_the_newest_bar_and_names_the_quiet_feeds():
    book = FeedBook()
    book.heard("a:X", "1m", bar_ts_ms=120_000, arrived_ms=200_000)
    book.heard("a:X", "1m", bar_ts_ms=60_000, arrived_ms=210_000)  # late: no step back
    book.heard("b:Y", "1m", bar_ts_ms=150_000, arrived_ms=215_000)
    lags = {f.instrument: f for f in book.lags(now_ms=220_000)}
    assert lags["a:X"].lag_s == (220_000 - 120_000 - 60_000) / 1000
    assert lags["a:X"].silent_s == 20.0
    assert book.stalled(now_ms=220_000, after_s=10) == {"a:X 1m"}


def test_the_monitor_alerts_on_a_stalled_feed_and_the_data_service_reports_its_lag(
    launch: Launch, peer: Bus
):
    alerts: list[Alert] = []
    peer.subscribe(Keys.ALL_ALERTS, lambda m, k: alerts.append(m) if isinstance(m, Alert) else None)
    launch("execution")  # the hub the services meet on
    launch("data")
    launch("monitor", QUANTDESK_MONITOR_FEED_STALL_S="1.5", QUANTDESK_MONITOR_AGENTS="[]")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)

    def stream(minutes: range) -> None:
        for m in minutes:
            peer.publish(Keys.market_data("binance", "BTC/USDT"), bar(start + timedelta(minutes=m)))
            time.sleep(0.1)

    def feeds() -> dict[str, object] | None:
        try:
            return peer.request(Keys.rpc("data", "feeds"), bar(start), timeout=1).body
        except BusError:
            return None  # the first requests wait for this peer's link to the hub

    wait_until(lambda: feeds() is not None, 15, what="the data service on the bus")
    stream(range(3))
    reported = wait_until(lambda: feeds() or None, 15, what="the data service's feed report")
    lag = reported["binance:BTC/USDT 1m"]
    assert isinstance(lag, dict)
    # The last bar opened at start + 2 minutes and closed a minute later.
    expected = (datetime.now(UTC) - (start + timedelta(minutes=3))).total_seconds()
    assert abs(float(lag["lag_s"]) - expected) < 5
    wait_until(
        lambda: any("feed stalled: binance:BTC/USDT 1m" in a.text for a in alerts),
        15,
        what="the stalled-feed alert",
        show=lambda: [a.text for a in alerts],
    )
    stream(range(3, 5))
    wait_until(
        lambda: any("feed flowing again: binance:BTC/USDT 1m" in a.text for a in alerts),
        15,
        what="the feed-back alert",
        show=lambda: [a.text for a in alerts],
    )
