"""The stream's checks (tools/stream/checks.py) over a `trade_batch.v1` record at once: the
same rules, the same findings in the same order, the same state after, as if its trades had
come one record each (a property test holds the two readings equal).

The outlier rule's median and MAD are measured every RESCALE returns, so between two
measurements every return is scored against the same pair: a run of them is scored in numpy
at once. While the feed's history is too short or flat (no pair yet), it goes a return at a
time, as the one-record reading does."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tools.quality.config import QualityConfig
from tools.stream.checks import RESCALE, FeedState, Finding, FindingKind, robust_scale

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BatchColumns:
    """A batch's trades as arrays: the reading the checks and the bar windows share."""

    feed: str
    session: str | None
    first_seq: int
    ts_ms: Ints
    price: Floats
    quantity: Floats


def check_batch(
    state: FeedState | None, batch: BatchColumns, config: QualityConfig
) -> tuple[FeedState, list[tuple[int, Finding]], int]:
    """The feed's state after the batch, what the checks found (with the index of the trade
    each is about, in the order found), and how many leading trades are repeats to drop."""
    state = state or FeedState()
    found: list[tuple[int, Finding]] = []
    n = len(batch.price)

    def report(i: int, kind: FindingKind, detail: str) -> None:
        at = int(batch.ts_ms[i])
        found.append((i, Finding(batch.feed, kind, batch.first_seq + i, at, detail)))

    if state.last_seq is not None and batch.session != state.session:
        report(0, "feed_restarted", f"adapter session {batch.session} after {state.session}")
        state.last_seq = None
    state.session = batch.session
    repeats = 0
    if state.last_seq is not None:
        last = state.last_seq
        repeats = min(n, max(0, last - batch.first_seq + 1))
        for i in range(repeats):
            report(i, "repeated_record", f"seq {batch.first_seq + i} after {last}: dropped")
        if repeats == n:
            return state, found, n
        first = batch.first_seq + repeats
        if first > last + 1:
            missing = f"{first - last - 1} record(s) missing before seq {first}"
            report(repeats, "sequence_gap", missing)
    state.last_seq = batch.first_seq + n - 1
    _outliers(state, batch, repeats, config, report)
    return state, found, repeats


def _outliers(
    state: FeedState,
    batch: BatchColumns,
    start: int,
    config: QualityConfig,
    report: Callable[[int, FindingKind, str], None],
) -> None:
    """Score the log return of each trade from `start` on, as `check` does one at a time."""
    prices = batch.price[start:]
    if state.last_price is None:
        previous, first = prices[:-1], start + 1
    else:
        previous, first = np.concatenate(([state.last_price], prices[:-1])), start
    # math.log, as the one-record reading takes it (numpy's may differ in the last bit).
    changes = [math.log(r) for r in (batch.price[first:] / previous).tolist()]
    done = 0
    while done < len(changes):
        if state.scale is None or state.unscaled >= RESCALE:
            state.scale, state.unscaled = robust_scale(state.returns), 0
        size = 1 if state.scale is None else min(len(changes) - done, RESCALE - state.unscaled)
        run = changes[done : done + size]
        state.unscaled += size
        if state.scale is not None:
            median, mad = state.scale
            z = (np.asarray(run) - median) / mad
            for k in np.flatnonzero(np.abs(z) > config.outlier_z).tolist():
                j = done + k
                report(
                    first + j,
                    "outlier",
                    f"log return {run[k]:+.4f} from {float(previous[j]):g} to "
                    f"{float(batch.price[first + j]):g}, robust z {float(z[k]):.1f}",
                )
        state.returns.extend(run)
        done += size
    state.last_price = float(prices[-1])
