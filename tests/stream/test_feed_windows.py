"""A feed's records into event-time bars, a batch at a time (tools/stream/feed_windows.py):
the bars and late trades follow from the records alone, however the polls split them, and
equal a plain reading of the rules (watermark = latest event time less the lateness; older
trades are late; a bar folds its trades in event-time order and closes when the watermark
reaches its end)."""

from __future__ import annotations

import copy
import itertools
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.quality.config import QualityConfig
from tools.stream.bars import BarSoFar, StreamBar
from tools.stream.checks import Finding
from tools.stream.feed_windows import FeedWindows
from tools.stream.messages import BookV1, TradeBatchV1, TradeV1

QUALITY = QualityConfig()
T0 = 1_700_000_040_000  # a minute boundary
LATENESS = 2_000


def trade(seq: int, ts_ms: int, price: float = 100.0, qty: float = 1.0) -> TradeV1:
    return TradeV1(
        venue="binance", symbol="BTC/USDT", trade_id=str(seq), seq=seq, ts_ms=ts_ms,
        price=price, quantity=qty,
    )  # fmt: skip


def windows() -> FeedWindows:
    return FeedWindows("binance:BTC/USDT", "1m", LATENESS)


def run(trades: list[TradeV1], cuts: list[int]) -> list[StreamBar | Finding]:
    feed = windows()
    out: list[StreamBar | Finding] = []
    bounds = [0, *sorted(set(cuts)), len(trades)]
    for lo, hi in itertools.pairwise(bounds):
        out.extend(feed.take(list(trades[lo:hi]), QUALITY))
        feed = pickle.loads(pickle.dumps(feed))  # a snapshot and a restart between polls
    return out + feed.drain()


def plainly(trades: list[TradeV1]) -> tuple[list[tuple[int, BarSoFar]], list[int]]:
    """The rules read plainly: which trades are late, then each bar from its trades sorted."""
    watermark = -(2**63)
    kept: list[tuple[int, int, TradeV1]] = []
    late: list[int] = []
    for n, t in enumerate(trades):
        watermark = max(watermark, t.ts_ms - LATENESS)
        if t.ts_ms < watermark:
            late.append(t.seq)
        else:
            kept.append((t.ts_ms, n, t))
    bars: dict[int, BarSoFar] = {}
    for ts, _, t in sorted(kept, key=lambda k: (k[0], k[1])):
        w = ts // 60_000
        b = bars.get(w)
        bars[w] = (
            BarSoFar(t.price, t.price, t.price, t.price, t.quantity, 1)
            if b is None
            else BarSoFar(b.open, max(b.high, t.price), min(b.low, t.price), t.price,
                          b.volume + t.quantity, b.trades + 1)
        )  # fmt: skip
    return sorted(bars.items()), late


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(-8, 18).map(lambda k: k * 500), st.integers(1, 500)),
        min_size=1,
        max_size=80,
    ),
    cuts=st.lists(st.integers(0, 80), max_size=6),
)
def test_bars_follow_from_the_records_however_the_polls_split_them(
    steps: list[tuple[int, int]], cuts: list[int]
):
    ts, trades = T0, []
    for seq, (step, price) in enumerate(steps):
        ts = max(T0, ts + step)  # on half-seconds: ties, bar ends and lateness edges hit
        trades.append(trade(seq, ts, float(price)))
    out = run(trades, cuts)
    bars = [e for e in out if isinstance(e, StreamBar)]
    late = [e.seq for e in out if isinstance(e, Finding) and e.kind == "late_trade"]
    want_bars, want_late = plainly(trades)
    assert [(int(b.ts.timestamp() * 1000) // 60_000, b.bar) for b in bars] == want_bars
    assert late == want_late


def test_a_bar_closes_only_when_a_trade_past_its_end_and_the_lateness_arrives():
    feed = windows()
    assert feed.take([trade(0, T0 + 1_000, 100.0), trade(1, T0 + 59_000, 101.0)], QUALITY) == []
    # 61 s: the watermark (59 s) has not reached the bar's end.
    assert feed.take([trade(2, T0 + 61_000, 102.0)], QUALITY) == []
    # 62 s: the watermark is at 60 s, the bar's end.
    [bar] = feed.take([trade(3, T0 + 62_000, 103.0)], QUALITY)
    assert isinstance(bar, StreamBar)
    assert (bar.venue, bar.symbol, bar.interval) == ("binance", "BTC/USDT", "1m")
    assert int(bar.ts.timestamp() * 1000) == T0
    assert bar.bar == BarSoFar(100.0, 101.0, 100.0, 101.0, 2.0, 2)
    # The open bar (61 s, 62 s) closes at the end of a bounded run.
    [last] = feed.drain()
    assert isinstance(last, StreamBar)
    assert last.bar.trades == 2


def test_a_late_trade_is_reported_and_left_out_of_its_bar():
    feed = windows()
    feed.take([trade(0, T0 + 10_000, 100.0), trade(1, T0 + 70_000, 100.0)], QUALITY)
    out = feed.take([trade(2, T0 + 20_000, 500.0)], QUALITY)
    [late] = [e for e in out if isinstance(e, Finding) and e.kind == "late_trade"]
    assert late.seq == 2
    assert "came after it closed" in late.detail
    bars = [e for e in feed.drain() if isinstance(e, StreamBar)]
    assert [b.bar.high for b in bars] == [100.0]  # the 500 print reached no bar


def test_a_repeat_is_dropped_before_it_reaches_a_bar_and_books_make_no_bars():
    feed = windows()
    book = BookV1(
        venue="binance", symbol="BTC/USDT", seq=2, ts_ms=T0 + 2_000, bid=101.0, ask=100.0,
        bid_size=1.0, ask_size=1.0,
    )  # fmt: skip
    out = feed.take(
        [trade(0, T0, 100.0), trade(1, T0 + 1_000), trade(1, T0 + 1_000), book], QUALITY
    )
    assert [e.kind for e in out if isinstance(e, Finding)] == ["repeated_record", "crossed_book"]
    [bar] = feed.drain()
    assert isinstance(bar, StreamBar)
    assert bar.bar.trades == 2


@st.composite
def feed_runs(draw: st.DrawFn) -> list[tuple[list[TradeV1], bool]]:
    """Runs of one feed's trades, each sent as one batch record or as records of their own:
    seq numbers run on within a run and jump between runs (gaps, repeats, a restarted
    adapter's new session); prices wander with jumps (outliers) and stand still (flat)."""
    runs: list[tuple[list[TradeV1], bool]] = []
    seq, ts, price, session = 0, T0, 100.0, "a"
    for _ in range(draw(st.integers(1, 6))):
        jump = draw(st.sampled_from([0, 0, 0, 2, -3, -40, "restart"]))
        if jump == "restart":
            seq, session = 0, session + "a"
        else:
            seq = max(0, seq + int(jump))
        trades = []
        for _ in range(draw(st.integers(1, 60))):
            ts = max(T0, ts + draw(st.integers(-8, 18)) * 500)
            move = draw(st.sampled_from([0.0, 0.001, -0.001, 0.002, 0.3, -0.25]))
            price = round(price * (1 + move), 6)
            trades.append(
                TradeV1(venue="binance", symbol="BTC/USDT", trade_id=str(seq), seq=seq,
                        session=session, ts_ms=ts, price=price,
                        quantity=draw(st.sampled_from([0.1, 0.2, 0.3, 1.7])))
            )  # fmt: skip
            seq += 1
        runs.append((trades, draw(st.booleans())))
    return runs


@settings(max_examples=200, deadline=None)
@given(runs=feed_runs(), cuts=st.lists(st.integers(0, 6), max_size=3))
def test_a_batch_record_gives_what_its_trades_one_record_each_give(
    runs: list[tuple[list[TradeV1], bool]], cuts: list[int]
):
    mixed: list[TradeV1 | TradeBatchV1] = []
    for trades, batched in runs:
        mixed.extend([TradeBatchV1.of(trades)] if batched else trades)
    bounds = [0, *sorted({min(c, len(mixed)) for c in cuts}), len(mixed)]
    one_each, batches, got, want = windows(), windows(), [], []
    for lo, hi in itertools.pairwise(bounds):
        polled = mixed[lo:hi]
        singles = [t for r in polled for t in (r.trades() if isinstance(r, TradeBatchV1) else [r])]
        want.extend(one_each.take(singles, QUALITY))  # type: ignore[arg-type]
        got.extend(batches.take(polled, QUALITY))  # type: ignore[arg-type]
        batches = pickle.loads(pickle.dumps(batches))  # a snapshot and a restart between polls
    got.extend(batches.drain())
    want.extend(one_each.drain())
    assert got == want
    assert any(isinstance(e, StreamBar) for e in got)


def test_a_snapshot_from_before_the_arrays_resumes_as_it_would_have():
    """A snapshot pickled before the waiting trades became arrays held them as a heap of
    (event time, arrival, record): it resumes with the same bars as the new form."""
    trades = [trade(seq, T0 + seq * 700, 100.0 + seq) for seq in range(6)]
    now = windows()
    now.take(trades, QUALITY)
    assert len(now.wait_ts) > 0  # the lateness holds some back
    old = {k: v for k, v in vars(now).items() if not k.startswith(("wait_", "_incoming"))}
    old["waiting"] = [
        (int(ts), int(n), next(t for t in trades if t.ts_ms == ts))
        for ts, n in zip(now.wait_ts, now.wait_arrival, strict=True)
    ]
    resumed = FeedWindows.__new__(FeedWindows)
    resumed.__setstate__(copy.deepcopy(old))
    more = [trade(6, T0 + 61_000 + LATENESS, 120.0)]
    assert resumed.take(more, QUALITY) + resumed.drain() == now.take(more, QUALITY) + now.drain()
