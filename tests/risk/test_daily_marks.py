"""The risk view keeps each instrument's daily closes and mark between reads only while the
bars table is unchanged: a streamed bar, a deleted bar or a new series is seen on the next
read, what is kept equals a fresh read, and an unchanged table is not read again."""

from __future__ import annotations

from datetime import timedelta

import pytest

import tools.risk.daily_marks as daily_marks_module
from core.models.market import SessionCalendar
from core.store import MarketDataStore, Store
from tests.risk.test_breach_rule import btc_bars
from tests.risk.test_streamed_marks import LAST_DAY, stream_bars
from tools.ingest.pipeline import ingest_bars
from tools.risk.daily_marks import DailyMark, daily_marks, read_mark

BTC = ("bitstamp", "BTC/USD")
DAYS = 30


def _same(kept: DailyMark, fresh: DailyMark | None) -> bool:
    return fresh is not None and kept.mark == fresh.mark and kept.closes.equals(fresh.closes)


def test_kept_marks_follow_every_change_to_the_bars(store: Store, monkeypatch: pytest.MonkeyPatch):
    ingest_bars(store, btc_bars(40_000.0), source="test", calendar=SessionCalendar.CONTINUOUS)
    market = MarketDataStore(store)
    reads: list[tuple[str, str]] = []

    def counted(market: MarketDataStore, venue: str, symbol: str, days: int) -> DailyMark | None:
        reads.append((venue, symbol))
        return read_mark(market, venue, symbol, days)

    monkeypatch.setattr(daily_marks_module, "read_mark", counted)
    first = daily_marks(market, [BTC, ("bitstamp", "ETH/USD")], DAYS)
    assert list(first) == [BTC]  # no ETH bars: left out
    assert first[BTC].mark == pytest.approx(40_000.0)
    assert _same(first[BTC], read_mark(market, *BTC, DAYS))
    assert len(first[BTC].closes) == DAYS
    # Unchanged: nothing is read again, and what comes back is a copy the caller may change.
    first[BTC].closes.iloc[:] = 0.0
    again = daily_marks(market, [BTC, ("bitstamp", "ETH/USD")], DAYS)
    assert reads == [BTC, ("bitstamp", "ETH/USD")]
    assert _same(again[BTC], read_mark(market, *BTC, DAYS))

    after = LAST_DAY + timedelta(days=1)
    stream_bars(store, [after], 46_000.0)  # a streamed minute after the daily close
    assert daily_marks(market, [BTC], DAYS)[BTC].mark == pytest.approx(46_000.0)

    store.client.command(
        "ALTER TABLE bars DELETE WHERE interval = '1m' SETTINGS mutations_sync = 2"
    )
    assert daily_marks(market, [BTC], DAYS)[BTC].mark == pytest.approx(40_000.0)

    eth = btc_bars(2_500.0).assign(symbol="ETH/USD")
    ingest_bars(store, eth, source="test", calendar=SessionCalendar.CONTINUOUS)
    both = daily_marks(market, [BTC, ("bitstamp", "ETH/USD")], DAYS)
    assert both[("bitstamp", "ETH/USD")].mark == pytest.approx(2_500.0)
    assert reads.count(BTC) == 4
