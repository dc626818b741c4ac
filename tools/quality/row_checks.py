"""Checks on single rows: each returns a boolean mask of the rows that fail it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.quality import QualityCheck

PRICES = ["open", "high", "low", "close"]


def row_failures(frame: pd.DataFrame) -> dict[QualityCheck, np.ndarray]:
    """Which rows fail which row-level check (a row may fail several)."""
    prices = frame[PRICES].to_numpy(dtype=np.float64)
    finite = np.isfinite(prices)
    all_finite = finite.all(axis=1)
    volume = frame["volume"].to_numpy(dtype=np.float64)
    o, h, lo, c = (prices[:, i] for i in range(4))
    with np.errstate(invalid="ignore"):
        inconsistent = all_finite & ((h < np.maximum.reduce([o, c, lo])) | (lo > np.minimum(o, c)))
        non_positive = (finite & (prices <= 0)).any(axis=1)
        bad_volume = ~np.isfinite(volume) | (volume < 0)
    return {
        QualityCheck.INVALID_TIMESTAMP: frame["ts"].isna().to_numpy(),
        QualityCheck.NAN_PRICE: ~all_finite,
        QualityCheck.NON_POSITIVE_PRICE: non_positive,
        QualityCheck.INVALID_VOLUME: bad_volume,
        QualityCheck.OHLC_INCONSISTENT: inconsistent,
    }
