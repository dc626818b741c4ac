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
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import timedelta

from tools.quality.config import QualityConfig
from tools.stream.bars import INTERVALS, BarSoFar, StreamBar, fold, window_start
from tools.stream.checks import FeedState, Finding, check
from tools.stream.messages import BookV1, TradeV1

_MS = timedelta(milliseconds=1)
NEVER = -(2**63)
"""The watermark before the first trade: nothing is late yet."""


@dataclass
class FeedWindows:
    """What one feed (venue:symbol) carries between batches; pickled in Bytewax snapshots."""

    feed: str
    interval: str
    """A name in INTERVALS: "1m", "5m", "1h"."""
    lateness_ms: int
    checks: FeedState | None = None
    watermark_ms: int = NEVER
    waiting: list[tuple[int, int, TradeV1]] = field(default_factory=list)
    """A heap of (event time, arrival, trade): trades the watermark has not passed yet."""
    arrivals: int = 0
    open: dict[int, BarSoFar] = field(default_factory=dict)

    @property
    def _interval_ms(self) -> int:
        return INTERVALS[self.interval] // _MS

    def take(
        self, records: list[TradeV1 | BookV1], quality: QualityConfig
    ) -> list[StreamBar | Finding]:
        """The findings and closed bars after `records` (in the order they arrived)."""
        out: list[StreamBar | Finding] = []
        for record in records:
            self.checks, found, keep = check(self.checks, record, quality)
            out.extend(found)
            if keep and isinstance(record, TradeV1):
                self._arrive(record, out)
        self._flush(self.watermark_ms, out)
        return out

    def drain(self) -> list[StreamBar | Finding]:
        """Every open bar, closed: the end of a bounded run."""
        out: list[StreamBar | Finding] = []
        self._flush(2**63, out)
        return out

    def _arrive(self, trade: TradeV1, out: list[StreamBar | Finding]) -> None:
        self.watermark_ms = max(self.watermark_ms, trade.ts_ms - self.lateness_ms)
        if trade.ts_ms < self.watermark_ms:
            out.append(self._late(trade))
            return
        self.arrivals += 1
        heapq.heappush(self.waiting, (trade.ts_ms, self.arrivals, trade))

    def _flush(self, watermark_ms: int, out: list[StreamBar | Finding]) -> None:
        step, waiting, bars = self._interval_ms, self.waiting, self.open
        while waiting and waiting[0][0] <= watermark_ms:
            ts_ms, _, trade = heapq.heappop(waiting)
            bars[ts_ms // step] = fold(bars.get(ts_ms // step), trade)
        for window in sorted(w for w in bars if (w + 1) * step <= watermark_ms):
            out.append(self._bar(window, self.open.pop(window)))

    def _bar(self, window: int, bar: BarSoFar) -> StreamBar:
        venue, _, symbol = self.feed.partition(":")
        start = window_start(window, INTERVALS[self.interval])
        return StreamBar(venue, symbol, self.interval, start, bar)

    def _late(self, trade: TradeV1) -> Finding:
        start = window_start(trade.ts_ms // self._interval_ms, INTERVALS[self.interval])
        return Finding(
            self.feed, "late_trade", trade.seq, trade.ts_ms,
            f"trade for the bar at {start:%H:%M:%S} came after it closed: not in the bar",
        )  # fmt: skip
