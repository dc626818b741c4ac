"""Each market-data feed's freshness as the desk hears it on the bus: when its last bar
arrived (wall clock) and how far that bar lags the desk's clock. The data service reports the
lags; the monitor alerts on a feed that has gone quiet."""

from __future__ import annotations

import threading
from dataclasses import dataclass

INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}


@dataclass(frozen=True)
class FeedLag:
    """One feed: `lag_s` from its last bar's close to now, `silent_s` since a bar arrived."""

    instrument: str
    interval: str
    lag_s: float
    silent_s: float


class FeedBook:
    """The last bar heard per feed (instrument, interval); safe to use from bus threads."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def heard(self, instrument: str, interval: str, bar_ts_ms: int, arrived_ms: int) -> None:
        """A bar arrived; an older bar arriving late never moves the feed back."""
        key = (instrument, interval)
        with self._lock:
            seen = self._last.get(key)
            if seen is None or bar_ts_ms >= seen[0]:
                self._last[key] = (bar_ts_ms, arrived_ms)

    def lags(self, now_ms: int) -> list[FeedLag]:
        with self._lock:
            last = dict(self._last)
        return [
            FeedLag(
                instrument,
                interval,
                lag_s=(now_ms - bar_ts - INTERVAL_MS.get(interval, 0)) / 1000,
                silent_s=(now_ms - arrived) / 1000,
            )
            for (instrument, interval), (bar_ts, arrived) in sorted(last.items())
        ]

    def stalled(self, now_ms: int, after_s: float) -> set[str]:
        """Feeds (as `instrument interval`) with no bar for longer than `after_s`."""
        return {f"{f.instrument} {f.interval}" for f in self.lags(now_ms) if f.silent_s > after_s}
