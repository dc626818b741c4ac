"""A token bucket per caller: `per_minute` requests a minute, in bursts up to that many."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, caller: str) -> tuple[bool, float]:
        """Whether `caller` may make a request now, and else how many seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return False, (1.0 - tokens) / self.rate
            self._buckets[caller] = (tokens - 1.0, now)
            return True, 0.0
