"""The risk agent marks what the desk holds to the stream's bars: a one-minute bar stored by
the stream dataflow after the last daily close values the holding (the exposure and its
breach), one stored inside the last day does not, and a replay sees only bars closed by its
simulated now. A real chdb store and desk; the bars are written as the dataflow's store
sink writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import MarketDataStore, Store
from core.store.as_of import AsOf
from graph.session import DeskSession
from tests.risk.test_breach_rule import btc_bars, limits_file
from tools.ingest.pipeline import ingest_bars
from tools.stream.bars import BarSoFar, StreamBar
from tools.stream.outputs import bar_frame

LAST_DAY = datetime(2024, 2, 9, tzinfo=UTC)  # btc_bars' 40th day; it closes a day later


def stream_bars(store: Store, opens: list[datetime], close: float) -> None:
    bars = [
        StreamBar("bitstamp", "BTC/USD", "1m", at, BarSoFar(close, close, close, close, 1.0, 3))
        for at in opens
    ]
    written = MarketDataStore(store).write_bars(bar_frame(bars))
    assert written.inserted == len(bars)


def exposure(store: Store, tmp_path: Path, buy: bool) -> dict[str, object]:
    settings = Settings(data_dir=tmp_path / "desk", limits_path=limits_file(tmp_path))
    with DeskSession(settings, store) as desk:
        if buy:
            assert desk.ask("buy 1 BTC", "t").results["execution"]["status"] == "filled"
        view: dict[str, object] = desk.ask("what is our exposure?", "t").results["risk"]["view"]
    return view


def test_a_streamed_bar_after_the_daily_close_marks_the_holding(store: Store, tmp_path: Path):
    ingest_bars(store, btc_bars(40_000.0), source="test", calendar=SessionCalendar.CONTINUOUS)
    # Inside the last day (before its close): the daily close is newer, it stays the mark.
    stream_bars(store, [LAST_DAY + timedelta(hours=20)], 30_000.0)
    view = exposure(store, tmp_path, buy=True)
    assert view["gross_exposure"] == pytest.approx(40_000.0)
    assert view["exposure_breach"]["breached"] is False  # type: ignore[index]
    # Streamed minutes after the close: the latest one is the mark, and it breaches 90% of 50k.
    after = LAST_DAY + timedelta(days=1)
    stream_bars(store, [after + timedelta(minutes=m) for m in (0, 1, 2)], 46_000.0)
    stream_bars(store, [after + timedelta(minutes=3)], 46_500.0)
    view = exposure(store, tmp_path, buy=False)
    assert view["gross_exposure"] == pytest.approx(46_500.0)
    assert view["exposure_breach"]["breached"] is True  # type: ignore[index]


def test_a_replay_sees_only_the_bars_closed_by_its_now(store: Store):
    ingest_bars(store, btc_bars(40_000.0), source="test", calendar=SessionCalendar.CONTINUOUS)
    after = LAST_DAY + timedelta(days=1)
    stream_bars(store, [after, after + timedelta(minutes=1)], 41_000.0)
    market = MarketDataStore(store)
    latest = market.latest_close("bitstamp", "BTC/USD", after)
    assert latest == (after + timedelta(minutes=2), 41_000.0, "1m")
    store.replay_as_of(AsOf(now=after + timedelta(seconds=90)))
    assert market.latest_close("bitstamp", "BTC/USD", after) == (
        after + timedelta(minutes=1), 41_000.0, "1m",
    )  # fmt: skip
    store.replay_as_of(AsOf(now=after + timedelta(seconds=59)))
    assert market.latest_close("bitstamp", "BTC/USD", after) is None
    assert market.latest_close("bitstamp", "ETH/USD", after) is None
    store.as_of.assert_clean()  # type: ignore[union-attr]
