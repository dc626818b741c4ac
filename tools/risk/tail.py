"""Historical value at risk and expected shortfall of a series of dollar PnL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_OBSERVATIONS = 21
"""Fewer PnL days than this give no tail figures (both 0)."""


@dataclass(frozen=True)
class TailRisk:
    var: float
    """The loss exceeded on a `quantile` share of the days (positive: a loss)."""
    expected_shortfall: float
    """The mean loss on the days at or beyond the VaR."""


def historical_tail(pnl: pd.Series, quantile: float = 0.05) -> TailRisk:
    """At the `quantile` of the PnL days (0.05: the 95% figures)."""
    if len(pnl) < MIN_OBSERVATIONS:
        return TailRisk(0.0, 0.0)
    var = float(-np.quantile(pnl, quantile))
    tail = pnl[pnl <= -var]
    return TailRisk(var, float(-tail.mean()) if len(tail) else 0.0)
