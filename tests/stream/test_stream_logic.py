"""The stream's pure parts (tools/stream): the record schema and its refusals, the streaming
quality checks, and the replay adapter's trades, which fold back into the bars they came
from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tools.quality.config import QualityConfig
from tools.stream.bars import fold
from tools.stream.checks import FeedState, check, stale_feeds
from tools.stream.messages import MAX_RECORD, BookV1, TradeBatchV1, TradeV1, decode, encode
from tools.stream.replay import trade_batches_from_bars, trades_from_bars

QUALITY = QualityConfig()


def trade(seq: int, price: float = 100.0, ts_ms: int = 1_700_000_000_000) -> TradeV1:
    return TradeV1(
        venue="binance", symbol="BTC/USDT", trade_id=str(seq), seq=seq, ts_ms=ts_ms + seq,
        price=price, quantity=0.5,
    )  # fmt: skip


def test_a_record_round_trips_with_its_schema_version():
    record = trade(7)
    payload = encode(record)
    assert json.loads(payload)["schema"] == "trade.v1"
    assert decode(payload) == record


def test_a_batch_of_trades_round_trips_and_reads_as_its_trades():
    trades = [trade(seq, price=100.0 + seq) for seq in range(3, 8)]
    batch = TradeBatchV1.of(trades)
    payload = encode(batch)
    assert payload.startswith(b'{"schema":"trade_batch.v1",')
    assert decode(payload) == batch
    assert batch.trades() == trades
    assert batch.key == trades[0].key


_BATCH = (
    b'{"schema":"trade_batch.v1", "venue": "binance", "symbol": "BTC/USDT", "first_seq": 0,'
    b' "side": [null], %b}'
)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(None, "empty record"), (b"{not json", "not JSON"), (b"[1, 2]", "not a JSON object"),
     (b'{"schema": "trade.v9"}', "unknown schema"),
     (b'{"schema": "trade.v1", "venue": "binance", "symbol": "BTC/USDT", "trade_id": "1",'
      b' "seq": 1, "ts_ms": 1, "price": NaN, "quantity": 1}', "price"),
     (b'{"schema": "trade.v1", "venue": "binance", "symbol": "BTC/USDT", "trade_id": "1",'
      b' "seq": 1, "ts_ms": 1, "price": 10, "quantity": -1}', "quantity"),
     (b'{"schema": "book.v1", "venue": "binance"}', "book.v1"),
     (b"x" * (MAX_RECORD + 1), "over the"),
     (_BATCH % b'"trade_id": ["1", "2"], "ts_ms": [1, 2], "price": [10, 11], "quantity": [1]',
      "unequal length"),
     (_BATCH % b'"trade_id": ["1"], "ts_ms": [1], "price": [NaN], "quantity": [1]', "price.0"),
     (_BATCH % b'"trade_id": ["1"], "ts_ms": [1.5], "price": [10], "quantity": [1]', "ts_ms.0"),
     (_BATCH % b'"trade_id": [], "ts_ms": [], "price": [], "quantity": []', "trade_id"),
     (_BATCH % b'"trade_id": [""], "ts_ms": [1], "price": [10], "quantity": [1]', "trade_id.0")],
)  # fmt: skip
def test_unreadable_records_say_why(payload: bytes | None, reason: str):
    refused = decode(payload)
    assert isinstance(refused, str)
    assert reason in refused


def test_a_sequence_gap_is_reported_and_a_repeat_dropped():
    state, found, keep = check(None, trade(1), QUALITY)
    assert (found, keep) == ([], True)
    state, found, keep = check(state, trade(4), QUALITY)
    assert keep
    assert [f.kind for f in found] == ["sequence_gap"]
    assert "2 record(s) missing" in found[0].detail
    state, found, keep = check(state, trade(3), QUALITY)
    assert not keep
    assert [f.kind for f in found] == ["repeated_record"]
    assert state.last_seq == 4


def test_an_outlying_print_is_reported_against_the_feeds_own_returns():
    rng = np.random.default_rng(3)
    state: FeedState | None = None
    price = 100.0
    for seq in range(40):
        price *= float(np.exp(rng.normal(0, 0.001)))
        state, found, _ = check(state, trade(seq, price), QUALITY)
        assert found == []
    state, found, keep = check(state, trade(40, price * 1.2), QUALITY)
    assert keep
    assert [f.kind for f in found] == ["outlier"]


def test_a_crossed_book_is_reported():
    book = BookV1(
        venue="binance", symbol="BTC/USDT", seq=1, ts_ms=1, bid=101.0, ask=100.0,
        bid_size=1, ask_size=1,
    )  # fmt: skip
    _, found, keep = check(None, book, QUALITY)
    assert keep
    assert [f.kind for f in found] == ["crossed_book"]


def test_a_quiet_feed_is_stale_by_the_wall_clock():
    found = stale_feeds({"a:X": 1_000, "b:Y": 9_500}, now_ms=10_000, stale_after_ms=5_000)
    assert [f.feed for f in found] == ["a:X"]


def test_replayed_trades_fold_back_into_the_stored_bars():
    rng = np.random.default_rng(11)
    ts = pd.date_range("2024-01-02", periods=50, freq="1min", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, 50)))
    open_ = np.r_[100.0, close[:-1]]
    bars = pd.DataFrame(
        {"ts": ts, "open": open_, "close": close,
         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
         "volume": rng.uniform(1, 5, 50)}
    )  # fmt: skip
    bars.loc[7, "volume"] = 0.0  # no trades printed: no trades replayed
    trades = list(trades_from_bars(bars, "binance", "BTC/USDT", interval_ms=60_000))
    assert [t.seq for t in trades] == list(range(len(trades)))
    assert len(trades) == 4 * 49
    folded: dict[int, object] = {}
    for t in trades:
        window = t.ts_ms // 60_000
        folded[window] = fold(folded.get(window), t)  # type: ignore[arg-type]
    kept = bars[bars["volume"] > 0]
    assert len(folded) == len(kept)
    for row, bar in zip(kept.itertuples(), folded.values(), strict=True):
        assert (bar.open, bar.high, bar.low, bar.close) == (row.open, row.high, row.low, row.close)  # type: ignore[attr-defined]
        assert bar.volume == pytest.approx(row.volume)  # type: ignore[attr-defined]
    # As batch records: the same trades, numbered the same, in runs of at most 37.
    batches = list(
        trade_batches_from_bars(
            bars, "binance", "BTC/USDT", 60_000, first_seq=5, session="s1", size=37
        )
    )
    assert [len(b.ts_ms) for b in batches] == [37] * 5 + [4 * 49 - 5 * 37]
    again = list(trades_from_bars(bars, "binance", "BTC/USDT", 60_000, first_seq=5, session="s1"))
    assert [t for b in batches for t in b.trades()] == again


def test_a_restarted_adapter_counts_afresh_and_is_not_a_repeat():
    state, _, _ = check(None, trade(500).model_copy(update={"session": "run1"}), QUALITY)
    state, found, keep = check(state, trade(0).model_copy(update={"session": "run2"}), QUALITY)
    assert keep
    assert [f.kind for f in found] == ["feed_restarted"]
    state, found, keep = check(state, trade(0).model_copy(update={"session": "run2"}), QUALITY)
    assert not keep
    assert [f.kind for f in found] == ["repeated_record"]


def test_an_unknown_bar_interval_is_refused_when_the_flow_is_built():
    from tools.stream.dataflow import FlowConfig, build_flow

    with pytest.raises(ValueError, match="no bar interval '7m'"):
        build_flow(FlowConfig(bootstrap="127.0.0.1:9", store_dsn="", interval="7m"))
