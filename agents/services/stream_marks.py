"""Streamed bars into execution's gate: the stream dataflow's bars (`MarketBar` with source
"stream" on desk/md) reach the paper venue as bars, so its fills and the positions' marks
follow the live market, not the last stored daily close.

Bars arrive on the bus's threads and are applied by the service's tick when the desk's lock
is free: a PM turn may hold it for seconds, and neither the bus nor the dead-man switch may
wait for it. Only the newest bar per instrument waits (marks are latest-value), and a bar no
newer than the last one applied is dropped, so a late or repeated bar never moves a mark back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from core.bus import BusMessage, MarketBar
from core.models.enums import Interval
from core.models.market import Bar

log = logging.getLogger(__name__)


class StreamMarks:
    """Pending streamed bars for the instruments in `traded`, applied through `on_bar`."""

    def __init__(self, traded: set[str], on_bar: Callable[[Bar], None]) -> None:
        self.traded = traded
        self.on_bar = on_bar
        self.pending: dict[str, MarketBar] = {}
        self.applied: dict[str, datetime] = {}
        self.refused = 0
        self._lock = threading.Lock()

    def heard(self, message: BusMessage, key: str) -> None:
        """A bus callback: keep the newest streamed bar of each traded instrument."""
        if not isinstance(message, MarketBar) or message.source != "stream":
            return
        if message.instrument not in self.traded:
            return
        with self._lock:
            held = self.pending.get(message.instrument)
            if held is None or message.bar_ts >= held.bar_ts:
                self.pending[message.instrument] = message

    def apply(self, desk_lock: threading.RLock) -> int:
        """Give the gate the waiting bars if the desk's lock is free now; how many it took."""
        if not self.pending or not desk_lock.acquire(blocking=False):
            return 0
        try:
            with self._lock:
                waiting, self.pending = self.pending, {}
            taken = 0
            for instrument, message in waiting.items():
                last = self.applied.get(instrument)
                if last is not None and message.bar_ts <= last:
                    continue
                venue, symbol = instrument.split(":", 1)
                try:
                    bar = Bar(
                        venue_id=venue, symbol=symbol, interval=Interval(message.interval),
                        ts=message.bar_ts, open=message.open, high=message.high,
                        low=message.low, close=message.close, volume=message.volume,
                    )  # fmt: skip
                    self.on_bar(bar)
                except ValueError as exc:
                    # GatewayError is a ValueError too: a bar the gate refuses is logged and
                    # counted, and the marks it would have moved stay where they were.
                    self.refused += 1
                    log.warning("execution: streamed bar for %s refused: %s", instrument, exc)
                    continue
                self.applied[instrument] = message.bar_ts
                taken += 1
            return taken
        finally:
            desk_lock.release()
