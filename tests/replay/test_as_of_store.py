"""The store as of a simulated now: bar reads end at the last bar closed by then, a read past
it is refused, and the probe reports any query that returns a later stamp."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from core.settings import Settings
from core.store import MarketDataStore, Store
from core.store.as_of import AsOf, LeakageError, LookAheadError
from core.store.lifecycle_log import LifecycleLog

NOW = datetime(2019, 3, 1, tzinfo=UTC)
SERIES = ("bitstamp", "BTC/USD", "1d")


@pytest.fixture(params=["held", "queried"])
def as_of_store(request: pytest.FixtureRequest, btc_store: Store) -> tuple[Store, AsOf]:
    """Both read paths: bars held in memory for the replay, and bars queried from chdb."""
    as_of = AsOf(now=NOW)
    if request.param == "held":
        MarketDataStore(btc_store).hold_for_replay(as_of, [SERIES])
    btc_store.replay_as_of(as_of)
    return btc_store, as_of


def test_reads_end_at_the_last_bar_closed_by_now(as_of_store: tuple[Store, AsOf]) -> None:
    store, as_of = as_of_store
    bars = MarketDataStore(store).read_bars(*SERIES)
    # The bar of 2019-02-28 closed at midnight, which is now; the bar of 03-01 has not.
    assert bars["ts"].iloc[-1] == pd.Timestamp("2019-02-28", tz="UTC")
    ranged = MarketDataStore(store).read_bars(*SERIES, start="2019-02-01", end=NOW)
    assert list(ranged["ts"].dt.day)[:2] == [1, 2]
    assert len(ranged) == 28
    as_of.move_to(datetime(2019, 3, 2, tzinfo=UTC))
    assert MarketDataStore(store).read_bars(*SERIES)["ts"].iloc[-1] == pd.Timestamp(
        "2019-03-01", tz="UTC"
    )
    as_of.assert_clean()


def test_a_read_past_now_is_refused_and_the_store_still_reads(
    as_of_store: tuple[Store, AsOf],
) -> None:
    store, as_of = as_of_store
    with pytest.raises(LookAheadError, match="past the simulated now"):
        MarketDataStore(store).read_bars(*SERIES, end="2019-03-05")
    assert len(MarketDataStore(store).read_bars(*SERIES)) > 1000
    as_of.assert_clean()


def test_series_spans_end_at_now(as_of_store: tuple[Store, AsOf]) -> None:
    store, _ = as_of_store
    [btc] = [s for s in MarketDataStore(store).series() if s.symbol == "BTC/USD"]
    assert btc.last == datetime(2019, 2, 28, tzinfo=UTC)


def test_the_clock_never_goes_back(as_of_store: tuple[Store, AsOf]) -> None:
    _, as_of = as_of_store
    with pytest.raises(ValueError, match="cannot go back"):
        as_of.move_to(datetime(2019, 2, 1, tzinfo=UTC))
    assert as_of.now == NOW


def test_the_probe_catches_a_query_that_bypasses_the_as_of(
    as_of_store: tuple[Store, AsOf],
) -> None:
    store, as_of = as_of_store
    # A reader that asks chdb itself, without the as-of: the whole history comes back.
    raw = store.bulk.query_frame(
        "SELECT ts, close FROM bars WHERE symbol = {s:String} ORDER BY ts", {"s": "BTC/USD"}
    )
    assert raw["ts"].max() > pd.Timestamp(NOW)
    with pytest.raises(LeakageError, match="after the simulated now"):
        as_of.assert_clean()


def test_rows_written_in_a_replay_carry_the_simulated_time(
    as_of_store: tuple[Store, AsOf],
) -> None:
    store, as_of = as_of_store
    log = LifecycleLog(store)
    log.append("k1", "proposed", "research", "test", {})
    [step] = log.steps("k1")
    assert step.ts == NOW
    as_of.assert_clean()


def test_memory_recalls_only_what_was_written_by_now(tmp_path: Path, store: Store) -> None:
    from knowledge.memory.store import MemoryItem, Recall
    from tools.knowledge_tools import KnowledgeTools

    settings = Settings(data_dir=tmp_path / "desk")
    tools = KnowledgeTools(settings, store)
    try:
        notes = [
            MemoryItem(text=f"ts_momentum on BTC, note of {day}", at=day, agent="research")
            for day in (datetime(2019, 2, 1, tzinfo=UTC), datetime(2019, 4, 1, tzinfo=UTC))
        ]
        tools.remember("research_notes", notes)
        ask = Recall(query="ts_momentum on BTC", limit=5)
        assert len(tools.recall(ask)) == 2
        as_of = AsOf(now=NOW)
        store.replay_as_of(as_of)
        seen = tools.recall(ask)
        assert [m.item.at for m in seen] == [datetime(2019, 2, 1, tzinfo=UTC)]
        # Even a recall that asks for later notes gets none of them.
        later = tools.recall(ask.model_copy(update={"until": datetime(2020, 1, 1, tzinfo=UTC)}))
        assert [m.item.at for m in later] == [datetime(2019, 2, 1, tzinfo=UTC)]
        as_of.assert_clean()
    finally:
        tools.close()
