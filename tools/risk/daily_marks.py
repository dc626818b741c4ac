"""Each held instrument's last daily closes and its mark, as the risk view reads them, kept
between reads while the bars table is unchanged.

The risk view runs on every exposure question and every cockpit refresh. Reading an
instrument's daily closes and its newest streamed bar costs two queries, 8-9 ms on chdb;
asking whether the bars table changed at all costs one for the whole book. A replay reads
each time: its now moves, and what a read may see with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from weakref import WeakKeyDictionary

import pandas as pd

from core.store import MarketDataStore, Store

Instrument = tuple[str, str]
"""(venue, symbol)"""


@dataclass(frozen=True)
class DailyMark:
    closes: pd.Series
    """The last daily closes, indexed by each day's open time."""
    mark: float
    """The last daily close, or a newer intraday bar's close where one is stored after it
    (the stream's one-minute bars)."""


def read_mark(market: MarketDataStore, venue: str, symbol: str, days: int) -> DailyMark | None:
    """`days` daily closes and the mark, read from the store; None with fewer than 3 closes."""
    frame = market.read_bars(venue, symbol, "1d").tail(days)
    if len(frame) < 3:
        return None
    last_day = pd.Timestamp(frame["ts"].iloc[-1]).to_pydatetime()
    newer = market.latest_close(venue, symbol, after=last_day + timedelta(days=1))
    return DailyMark(
        closes=pd.Series(frame["close"].to_numpy(), index=frame["ts"]),
        mark=newer[1] if newer is not None else float(frame["close"].iloc[-1]),
    )


@dataclass
class _Kept:
    version: tuple[int, ...] = ()
    marks: dict[tuple[str, str, int], DailyMark | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_KEPT: WeakKeyDictionary[Store, _Kept] = WeakKeyDictionary()


def daily_marks(
    market: MarketDataStore, instruments: list[Instrument], days: int
) -> dict[Instrument, DailyMark]:
    """The marks of `instruments` that have at least 3 daily closes."""
    if market.store.as_of is not None:
        found = {i: read_mark(market, *i, days) for i in dict.fromkeys(instruments)}
        return {i: m for i, m in found.items() if m is not None}
    kept = _KEPT.setdefault(market.store, _Kept())
    out: dict[Instrument, DailyMark] = {}
    with kept.lock:
        # Probed before reading: a write after the probe makes the next probe differ, so a
        # mark kept here is never older than the version it is kept under.
        version = market.bars_version()
        if version != kept.version:
            kept.marks.clear()
            kept.version = version
        for venue, symbol in dict.fromkeys(instruments):
            key = (venue, symbol, days)
            if key not in kept.marks:
                kept.marks[key] = read_mark(market, venue, symbol, days)
            mark = kept.marks[key]
            if mark is not None:
                out[(venue, symbol)] = DailyMark(mark.closes.copy(), mark.mark)
    return out
