"""The fill model both backtesters share; the vectorised one's simulation kernel is compiled
in `tools.research.kernels`, loaded with the first backtest.

A weight decided at bar t's close trades at bar t+1's open, as one market order, at the
open moved against us by the half-spread and slippage, paying `commission` on its notional.
A flip or a close sizes the new position from the equity left after closing the old one
(backtesting.py's close-then-open). The position is then held in units until the target
weight moves by more than `rebalance_band`.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tools.research.bars import Floats


class Costs(BaseModel):
    """What trading costs; the event-driven backtester maps these onto the paper venue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission: float = Field(default=0.001, ge=0, lt=0.1, allow_inf_nan=False)
    slippage_bps: float = Field(default=0.0, ge=0, le=1_000, allow_inf_nan=False)
    half_spread_bps: float = Field(default=0.0, ge=0, le=1_000, allow_inf_nan=False)
    lot: float = Field(default=1e-8, gt=0, allow_inf_nan=False)
    rebalance_band: float = Field(default=0.0, ge=0, allow_inf_nan=False)


def simulate_weights(
    open_: Floats, close: Floats, weights: Floats, cash: float, costs: Costs
) -> tuple[Floats, Floats, Floats, Floats]:
    from tools.research.kernels import simulate  # numba loads with the first backtest

    return simulate(
        np.ascontiguousarray(open_, dtype=np.float64),
        np.ascontiguousarray(close, dtype=np.float64),
        np.ascontiguousarray(weights, dtype=np.float64),
        float(cash),
        costs.commission,
        costs.slippage_bps / 1e4,
        costs.half_spread_bps / 1e4,
        costs.lot,
        costs.rebalance_band,
    )
