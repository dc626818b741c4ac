"""The compiled loops of the research tools: the vectorised backtester's fill simulation
(with `target_units`, which the SMA sweep kernel shares) and the mean-reversion band.

numba loads with this module, so it is imported where a backtest runs (inside
`fill_model.simulate_weights` and `MeanReversion.weights`), never when the desk or the CLI
starts. The fill rules are documented in `tools.research.fill_model`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tools.research.bars import Floats


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


@njit(cache=True)
def band_positions(
    z: Floats, entry: float, exit_: float, short: bool
) -> Floats:  # pragma: no cover
    out = np.zeros(len(z))
    state = 0.0
    for t in range(len(z)):
        value = z[t]
        if np.isnan(value):
            out[t] = state
            continue
        if state == 0.0:
            if value <= -entry:
                state = 1.0
            elif short and value >= entry:
                state = -1.0
        elif (state > 0.0 and value >= -exit_) or (state < 0.0 and value <= exit_):
            state = 0.0
        out[t] = state
    return out
