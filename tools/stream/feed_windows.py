"""One feed's records through the checks and into event-time bars, a batch at a time.

The dataflow hands each feed its records in batches (what one Kafka poll brought), because a
Bytewax step costs tens of microseconds per item: one item per trade across seven steps was
most of the stream's time. The rules are Bytewax's event-time tumbling windows, kept as they
were when the flow used `fold_window` (ordered): the watermark is the latest event time seen
less the allowed lateness and never steps back; a trade older than the watermark is late
(reported, not in a bar); others wait until the watermark passes them and then fold into
their window in event-time order; a window closes once the watermark reaches its end, or at
the end of a bounded run. Only event time moves the watermark, so a restart closes the same
windows as a clean run.

A `trade_batch.v1` record goes through the checks (tools/stream/batch_checks.py), the
watermark and the windows in numpy at once; the trades waiting for the watermark are kept as
arrays, and fold into their bars a window at a time. Its findings and bars are those of the
same trades sent one record each, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from tools.quality.config import QualityConfig
from tools.stream.bars import INTERVALS, BarSoFar, StreamBar, window_start
from tools.stream.batch_checks import BatchColumns, Floats, Ints, check_batch
from tools.stream.checks import FeedState, Finding, check
from tools.stream.messages import Record, TradeBatchV1, TradeV1

_MS = timedelta(milliseconds=1)
NEVER = -(2**63)
"""The watermark before the first trade: nothing is late yet."""


def _ints() -> Ints:
    return np.empty(0, dtype=np.int64)


def _floats() -> Floats:
    return np.empty(0, dtype=np.float64)


@dataclass
class FeedWindows:
    """What one feed (venue:symbol) carries between batches; pickled in Bytewax snapshots."""

    feed: str
    interval: str
    """A name in INTERVALS: "1m", "5m", "1h"."""
    lateness_ms: int
    checks: FeedState | None = None
    watermark_ms: int = NEVER
    arrivals: int = 0
    open: dict[int, BarSoFar] = field(default_factory=dict)
    # Trades the watermark has not passed yet: event time, arrival number, price, quantity.
    wait_ts: Ints = field(default_factory=_ints)
    wait_arrival: Ints = field(default_factory=_ints)
    wait_price: Floats = field(default_factory=_floats)
    wait_quantity: Floats = field(default_factory=_floats)
    _incoming: list[tuple[int, int, float, float]] = field(default_factory=list)
    """Trades that came one record each since the last flush, in the same four columns."""

    @property
    def _interval_ms(self) -> int:
        return INTERVALS[self.interval] // _MS

    def take(self, records: list[Record], quality: QualityConfig) -> list[StreamBar | Finding]:
        """The findings and closed bars after `records` (in the order they arrived)."""
        out: list[StreamBar | Finding] = []
        for record in records:
            if isinstance(record, TradeBatchV1):
                self._take_batch(record, quality, out)
                continue
            self.checks, found, keep = check(self.checks, record, quality)
            out.extend(found)
            if keep and isinstance(record, TradeV1):
                self._arrive(record, out)
        self._flush(self.watermark_ms, out)
        return out

    def drain(self) -> list[StreamBar | Finding]:
        """Every open bar, closed: the end of a bounded run."""
        out: list[StreamBar | Finding] = []
        self._flush(2**63 - 1, out)
        return out

    def _arrive(self, trade: TradeV1, out: list[StreamBar | Finding]) -> None:
        self.watermark_ms = max(self.watermark_ms, trade.ts_ms - self.lateness_ms)
        if trade.ts_ms < self.watermark_ms:
            out.append(self._late(trade.seq, trade.ts_ms))
            return
        self.arrivals += 1
        self._incoming.append((trade.ts_ms, self.arrivals, trade.price, trade.quantity))

    def _take_batch(
        self, batch: TradeBatchV1, quality: QualityConfig, out: list[StreamBar | Finding]
    ) -> None:
        columns = BatchColumns(
            batch.key, batch.session, batch.first_seq, np.asarray(batch.ts_ms, dtype=np.int64),
            np.asarray(batch.price, dtype=np.float64),
            np.asarray(batch.quantity, dtype=np.float64),
        )  # fmt: skip
        self.checks, found, repeats = check_batch(self.checks, columns, quality)
        ts = columns.ts_ms[repeats:]
        if not len(ts):
            out.extend(f for _, f in found)
            return
        marks = np.maximum.accumulate(np.maximum(ts - self.lateness_ms, self.watermark_ms))
        self.watermark_ms = int(marks[-1])
        late = ts < marks
        for k in np.flatnonzero(late).tolist():
            i = repeats + k
            found.append((i, self._late(batch.first_seq + i, int(ts[k]))))
        # A trade's findings in the order one record each would give: checks, then lateness.
        out.extend(f for _, f in sorted(found, key=lambda pair: pair[0]))
        on_time = ~late
        count = int(on_time.sum())
        self._keep_waiting(
            ts[on_time],
            np.arange(self.arrivals + 1, self.arrivals + count + 1, dtype=np.int64),
            columns.price[repeats:][on_time],
            columns.quantity[repeats:][on_time],
        )
        self.arrivals += count

    def _keep_waiting(self, ts: Ints, arrival: Ints, price: Floats, quantity: Floats) -> None:
        self.wait_ts = np.concatenate((self.wait_ts, ts))
        self.wait_arrival = np.concatenate((self.wait_arrival, arrival))
        self.wait_price = np.concatenate((self.wait_price, price))
        self.wait_quantity = np.concatenate((self.wait_quantity, quantity))

    def _flush(self, watermark_ms: int, out: list[StreamBar | Finding]) -> None:
        if self._incoming:
            ts, arrival, price, quantity = zip(*self._incoming, strict=True)
            self._incoming = []
            self._keep_waiting(
                np.asarray(ts, dtype=np.int64), np.asarray(arrival, dtype=np.int64),
                np.asarray(price, dtype=np.float64), np.asarray(quantity, dtype=np.float64),
            )  # fmt: skip
        ready = self.wait_ts <= watermark_ms
        if ready.any():
            # Event-time order, arrival order among equal times: the order they fold in.
            chosen = np.flatnonzero(ready)
            chosen = chosen[np.lexsort((self.wait_arrival[chosen], self.wait_ts[chosen]))]
            self._fold(self.wait_ts[chosen], self.wait_price[chosen], self.wait_quantity[chosen])
            left = ~ready
            self.wait_ts, self.wait_arrival = self.wait_ts[left], self.wait_arrival[left]
            self.wait_price, self.wait_quantity = self.wait_price[left], self.wait_quantity[left]
        step = self._interval_ms
        for window in sorted(w for w in self.open if (w + 1) * step <= watermark_ms):
            out.append(self._bar(window, self.open.pop(window)))

    def _fold(self, ts: Ints, price: Floats, quantity: Floats) -> None:
        """Fold trades (in event-time order) into their windows' bars, as `bars.fold` does
        one at a time: the volume is summed in the same order, so it is the same float
        however the trades were split into polls. In plain Python: a window holds a few
        trades to a few thousand, and numpy's cost per call outweighs its speed per trade."""
        windows = (ts // self._interval_ms).tolist()
        prices, quantities = price.tolist(), quantity.tolist()
        i, n = 0, len(prices)
        while i < n:
            window = windows[i]
            bar = self.open.get(window)
            if bar is None:
                first = prices[i]
                open_, high, low, volume, count = first, first, first, quantities[i], 1
                i += 1
            else:
                open_, high, low, volume, count = (
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.volume,
                    bar.trades,
                )
            while i < n and windows[i] == window:
                p = prices[i]
                high = max(high, p)
                low = min(low, p)
                volume += quantities[i]
                count += 1
                i += 1
            self.open[window] = BarSoFar(open_, high, low, prices[i - 1], volume, count)

    def _bar(self, window: int, bar: BarSoFar) -> StreamBar:
        venue, _, symbol = self.feed.partition(":")
        start = window_start(window, INTERVALS[self.interval])
        return StreamBar(venue, symbol, self.interval, start, bar)

    def _late(self, seq: int, ts_ms: int) -> Finding:
        start = window_start(ts_ms // self._interval_ms, INTERVALS[self.interval])
        return Finding(
            self.feed, "late_trade", seq, ts_ms,
            f"trade for the bar at {start:%H:%M:%S} came after it closed: not in the bar",
        )  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A snapshot from before the arrays: its waiting trades were a heap of records."""
        legacy = state.pop("waiting", None)
        self.__dict__.update(state)
        if legacy is not None:
            self.wait_ts, self.wait_arrival = _ints(), _ints()
            self.wait_price, self.wait_quantity = _floats(), _floats()
            self._incoming = [(ts, n, t.price, t.quantity) for ts, n, t in legacy]
