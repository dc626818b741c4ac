"""Rolling indicators on numpy arrays; NaN until the window is full, as pandas does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tools.research.bars import Floats


def sma(values: Floats, window: int) -> Floats:
    out: Floats = pd.Series(values).rolling(window).mean().to_numpy()
    return out


def rolling_std(values: Floats, window: int) -> Floats:
    out: Floats = pd.Series(values).rolling(window).std(ddof=0).to_numpy()
    return out


def rolling_max(values: Floats, window: int) -> Floats:
    out: Floats = pd.Series(values).rolling(window).max().to_numpy()
    return out


def rolling_min(values: Floats, window: int) -> Floats:
    out: Floats = pd.Series(values).rolling(window).min().to_numpy()
    return out


def log_returns(close: Floats) -> Floats:
    out = np.full(len(close), np.nan)
    out[1:] = np.diff(np.log(close))
    return out
