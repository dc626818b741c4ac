"""Realised volatility: the desk's one definition, used for each instrument (the risk
service's dollar-volatility rule) and for the book (the risk view)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
YEAR = pd.Timedelta(days=DAYS_PER_YEAR)


def realised_volatility(closes: pd.Series) -> float | None:
    """Annualised realised volatility of `closes`, indexed by time (a DatetimeIndex):

    - returns are log returns of consecutive closes, ln(c[t] / c[t-1]);
    - their spread is the sample standard deviation (ddof=1);
    - it is annualised by the square root of the returns per year, counted over the closes'
      own span in 365.25-day years: 365.25 for consecutive daily closes (crypto trades every
      day), about 252 for a weekday market's daily closes (its gaps count).

    None with fewer than three closes, or a close at or below zero."""
    closes = closes.sort_index()
    prices = closes.to_numpy(dtype=float)
    if len(prices) < 3 or bool(np.any(prices <= 0)):
        return None
    return annualised(np.diff(np.log(prices)), closes.index[-1] - closes.index[0])


def annualised(log_returns: np.ndarray, span: pd.Timedelta) -> float | None:
    """The spread of consecutive log returns covering `span`, annualised as above (the
    definition's second half, for returns already computed). None with fewer than two."""
    if len(log_returns) < 2:
        return None
    years = span / YEAR
    per_year = len(log_returns) / years if years > 0 else DAYS_PER_YEAR
    return float(log_returns.std(ddof=1) * np.sqrt(per_year))
