"""The fill model both backtesters share, and the vectorised one's simulation kernel.

A weight decided at bar t's close trades at bar t+1's open, as one market order, at the
open moved against us by the half-spread and slippage, paying `commission` on its notional.
A flip or a close sizes the new position from the equity left after closing the old one
(backtesting.py's close-then-open). The position is then held in units until the target
weight moves by more than `rebalance_band`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
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


@njit(cache=True, inline="always")
def target_units(
    weight: float, cash: float, position: float, open_: float, buy_px: float, sell_px: float,
    commission: float, lot: float,
) -> float:  # fmt: skip  # pragma: no cover
    basis = cash + position * open_
    flips = position != 0.0 and (weight == 0.0 or (weight > 0.0) != (position > 0.0))
    if flips:
        px = sell_px if position > 0.0 else buy_px
        basis = cash + position * px - abs(position) * px * commission
    if weight == 0.0:
        return 0.0
    new_px = buy_px if weight > 0.0 else sell_px
    units = abs(weight) * basis / (new_px * (1.0 + commission))
    units = float(np.floor(units / lot * (1.0 + 1e-12)) * lot)
    return units if weight > 0.0 else -units


@njit(cache=True)
def simulate(
    open_: Floats, close: Floats, weights: Floats, cash0: float, commission: float,
    slippage: float, half_spread: float, lot: float, band: float,
) -> tuple[Floats, Floats, Floats, Floats]:  # fmt: skip  # pragma: no cover
    """Equity and units at each close, and per trade: bar index (as float) and signed units."""
    n = len(close)
    equity = np.empty(n)
    position = np.zeros(n)
    trade_bar = np.empty(n)
    trade_units = np.empty(n)
    trades = 0
    cash = cash0
    units = 0.0
    traded = 0.0
    equity[0] = cash0
    for t in range(1, n):
        w = weights[t - 1]
        if not np.isfinite(w):
            w = 0.0
        if abs(w - traded) > band:
            o = open_[t]
            buy_px = o * (1.0 + half_spread) * (1.0 + slippage)
            sell_px = o * (1.0 - half_spread) * (1.0 - slippage)
            target = target_units(w, cash, units, o, buy_px, sell_px, commission, lot)
            delta = target - units
            if abs(delta) >= lot * (1.0 - 1e-9):
                px = buy_px if delta > 0.0 else sell_px
                cash -= delta * px + abs(delta) * px * commission
                units = target
                trade_bar[trades] = t
                trade_units[trades] = delta
                trades += 1
            traded = w
        position[t] = units
        equity[t] = cash + units * close[t]
    return equity, position, trade_bar[:trades], trade_units[:trades]


def simulate_weights(
    open_: Floats, close: Floats, weights: Floats, cash: float, costs: Costs
) -> tuple[Floats, Floats, Floats, Floats]:
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
