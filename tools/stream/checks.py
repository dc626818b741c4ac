"""The batch quality rules in streaming form, one feed (venue:symbol) at a time: sequence
gaps and repeats, outlying prices (the robust z-score of a log return, as
tools/quality/series_checks.py), crossed books, and a feed gone quiet. A check reports; it
drops only a record the feed already delivered (a repeated sequence number), which would
otherwise count twice in a bar."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tools.quality.config import QualityConfig
from tools.stream.messages import BookV1, TradeV1

FindingKind = Literal[
    "sequence_gap",
    "repeated_record",
    "outlier",
    "crossed_book",
    "stale_feed",
    "late_trade",
    "feed_restarted",
]
# Returns kept per feed for the robust z-score: enough for a stable median and MAD.
WINDOW = 64
MIN_RETURNS = 20
RESCALE = 16


@dataclass(frozen=True)
class Finding:
    """What a check found on one feed, with the record's sequence number and time."""

    feed: str
    kind: FindingKind
    seq: int
    ts_ms: int
    detail: str


@dataclass
class FeedState:
    """What the checks remember of one feed between its records."""

    last_seq: int | None = None
    session: str | None = None
    last_price: float | None = None
    returns: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    scale: tuple[float, float] | None = None
    """The returns' median and scaled MAD, measured every RESCALE returns: they drift slowly,
    and measuring them on every trade was most of the stream's cost (99 of 185 us a trade)."""
    unscaled: int = 0


def check(
    state: FeedState | None, record: TradeV1 | BookV1, config: QualityConfig
) -> tuple[FeedState, list[Finding], bool]:
    """The feed's state after `record`, what the checks found, and whether the record goes
    on (False for a repeat)."""
    state = state or FeedState()
    found: list[Finding] = []

    def report(kind: FindingKind, detail: str) -> None:
        found.append(Finding(record.key, kind, record.seq, record.ts_ms, detail))

    if state.last_seq is not None and record.session != state.session:
        # A restarted adapter numbers from 0 again: its records are new, not repeats.
        report("feed_restarted", f"adapter session {record.session} after {state.session}")
        state.last_seq = None
    state.session = record.session
    if state.last_seq is not None and record.seq <= state.last_seq:
        report("repeated_record", f"seq {record.seq} after {state.last_seq}: dropped")
        return state, found, False
    if state.last_seq is not None and record.seq > state.last_seq + 1:
        report(
            "sequence_gap",
            f"{record.seq - state.last_seq - 1} record(s) missing before seq {record.seq}",
        )
    state.last_seq = record.seq
    if isinstance(record, BookV1):
        if record.bid >= record.ask:
            report("crossed_book", f"bid {record.bid:g} >= ask {record.ask:g}")
        return state, found, True
    if state.last_price is not None:
        change = math.log(record.price / state.last_price)
        if state.scale is None or state.unscaled >= RESCALE:
            state.scale, state.unscaled = robust_scale(state.returns), 0
        state.unscaled += 1
        z = robust_z(change, state.scale)
        if z is not None and abs(z) > config.outlier_z:
            report(
                "outlier",
                f"log return {change:+.4f} from {state.last_price:g} to {record.price:g}, "
                f"robust z {z:.1f}",
            )
        state.returns.append(change)
    state.last_price = record.price
    return state, found, True


def robust_scale(history: deque[float]) -> tuple[float, float] | None:
    """The median and the MAD (scaled to a normal's sigma) of `history`, or None while it is
    too short or flat."""
    if len(history) < MIN_RETURNS:
        return None
    past = np.fromiter(history, dtype=float)
    median = _median(np.sort(past))
    mad = _median(np.sort(np.abs(past - median))) * 1.4826
    return None if mad == 0.0 else (median, mad)


def _median(ordered: npt.NDArray[np.float64]) -> float:
    """np.median of a sorted array, the same float (the mean of the middle two when even),
    without its wrapper's cost: it was most of a rescale's 26 us."""
    n = len(ordered)
    middle = float(ordered[n // 2])
    return middle if n % 2 else (float(ordered[n // 2 - 1]) + middle) / 2.0


def robust_z(value: float, scale: tuple[float, float] | None) -> float | None:
    """`value`'s robust z-score against a feed's returns' median and MAD."""
    return None if scale is None else (value - scale[0]) / scale[1]


def stale_feeds(last_seen_ms: dict[str, int], now_ms: int, stale_after_ms: int) -> list[Finding]:
    """Feeds whose last record is older than `stale_after_ms` at `now_ms` (wall clock: a
    feed stalls in real time, not in event time)."""
    return [
        Finding(feed, "stale_feed", -1, seen, f"no record for {(now_ms - seen) / 1000:.1f} s")
        for feed, seen in sorted(last_seen_ms.items())
        if now_ms - seen > stale_after_ms
    ]
