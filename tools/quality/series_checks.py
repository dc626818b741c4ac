"""Checks on a clean, sorted series: returns, frozen prices, staleness."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from core.models.market import Interval
from tools.quality.config import QualityConfig

_MAD_TO_SIGMA = 0.6745


def robust_z(values: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 * MAD); zeros when the spread is zero."""
    median = np.nanmedian(values)
    mad = np.nanmedian(np.abs(values - median))
    if not np.isfinite(mad) or mad == 0:
        return np.zeros_like(values)
    z: np.ndarray = _MAD_TO_SIGMA * (values - median) / mad
    return z


def return_outliers(close: np.ndarray, config: QualityConfig) -> tuple[np.ndarray, np.ndarray]:
    """(outlier, spike) masks over bars: bar i's outlier concerns the return into bar i.

    A spike is a bar whose close jumps and is undone by the next return: a bad print or a
    crash-and-rebound. Both masks only flag; neither proves the bar wrong.
    """
    n = len(close)
    outlier = np.zeros(n, dtype=bool)
    spike = np.zeros(n, dtype=bool)
    if n < 3:
        return outlier, spike
    returns = np.diff(np.log(close))
    z = robust_z(returns)
    big = np.abs(z) > config.outlier_z
    outlier[1:] = big
    reverts = (
        big[:-1]
        & big[1:]
        & (np.sign(returns[:-1]) != np.sign(returns[1:]))
        & (
            np.abs(returns[:-1] + returns[1:])
            <= (1 - config.spike_revert_fraction) * np.abs(returns[:-1])
        )
    )
    spike[1:-1] = reverts
    outlier &= ~spike
    # The return out of a spike is the spike's echo, not news of its own.
    outlier[2:] &= ~spike[1:-1]
    return outlier, spike


def flat_runs(frame: pd.DataFrame, min_bars: int) -> list[tuple[int, int]]:
    """(start, length) of runs of at least `min_bars` bars whose OHLC never moves."""
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    frozen = (h == lo) & (o == c) & np.r_[False, c[1:] == c[:-1]]
    runs: list[tuple[int, int]] = []
    start = -1
    for i, is_frozen in enumerate([*frozen, False]):
        if is_frozen and start < 0:
            start = i - 1  # the run includes the bar whose price it repeats
        elif not is_frozen and start >= 0:
            if i - start >= min_bars:
                runs.append((start, i - start))
            start = -1
    return runs


def is_stale(
    last: pd.Timestamp, interval: Interval, as_of: datetime, config: QualityConfig
) -> bool:
    limit = max(pd.Timedelta(config.stale_after), 3 * pd.Timedelta(interval.duration))
    return bool(pd.Timestamp(as_of) - last > limit)
