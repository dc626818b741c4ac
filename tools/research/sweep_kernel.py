"""The SMA-crossover sweep as one compiled kernel: crossover events, the shared fill model
and the summary statistics for every parameter pair, pairs spread over the cores."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit, prange

from tools.research.bars import BarSeries, Floats
from tools.research.fill_model import Costs
from tools.research.indicators import sma
from tools.research.kernels import target_units

STATS = ("final_equity", "mean_return", "std_return", "max_drawdown", "trades")


@njit(cache=True, parallel=True)
def _sweep(
    open_: Floats, close: Floats, smas: npt.NDArray[np.float64], fast_idx: npt.NDArray[np.int64],
    slow_idx: npt.NDArray[np.int64], cash0: float, commission: float, slippage: float,
    half_spread: float, lot: float, short: bool,
) -> npt.NDArray[np.float64]:  # fmt: skip  # pragma: no cover
    n = len(close)
    out = np.empty((len(fast_idx), 5))
    for k in prange(len(fast_idx)):
        fast = smas[fast_idx[k]]
        slow = smas[slow_idx[k]]
        cash = cash0
        units = 0.0
        weight = 0.0
        traded = 0.0
        prev_equity = cash0
        peak = cash0
        max_dd = 0.0
        total = 0.0
        total_sq = 0.0
        trades = 0
        for t in range(1, n):
            # Trade at t's open on the weight decided at t-1's close.
            if weight != traded:
                o = open_[t]
                buy_px = o * (1.0 + half_spread) * (1.0 + slippage)
                sell_px = o * (1.0 - half_spread) * (1.0 - slippage)
                target = target_units(weight, cash, units, o, buy_px, sell_px, commission, lot)
                delta = target - units
                if abs(delta) >= lot * (1.0 - 1e-9):
                    px = buy_px if delta > 0.0 else sell_px
                    cash -= delta * px + abs(delta) * px * commission
                    units = target
                    trades += 1
                traded = weight
            equity = cash + units * close[t]
            r = equity / prev_equity - 1.0
            total += r
            total_sq += r * r
            prev_equity = equity
            if equity > peak:
                peak = equity
            dd = equity / peak - 1.0
            if dd < max_dd:
                max_dd = dd
            # The crossover seen at t's close sets the weight for t+1's open.
            if fast[t - 1] < slow[t - 1] and fast[t] > slow[t]:
                weight = 1.0
            elif fast[t - 1] > slow[t - 1] and fast[t] < slow[t]:
                weight = -1.0 if short else 0.0
        m = n - 1
        mean = total / m
        var = (total_sq - m * mean * mean) / (m - 1) if m > 1 else 0.0
        out[k, 0] = cash + units * close[n - 1]
        out[k, 1] = mean
        out[k, 2] = np.sqrt(max(var, 0.0))
        out[k, 3] = max_dd
        out[k, 4] = trades
    return out


def sma_cross_sweep(
    bars: BarSeries,
    pairs: list[tuple[int, int]],
    costs: Costs,
    cash: float = 100_000.0,
    allow_short: bool = True,
) -> pd.DataFrame:
    """One row per (fast, slow) pair with final equity, per-bar mean and std of returns,
    max drawdown and trades; the same numbers `run_vectorised` gives pair by pair."""
    if not pairs:
        raise ValueError("a sweep needs at least one (fast, slow) pair")
    bad = [(f, s) for f, s in pairs if not 1 <= f < s]
    if bad:
        raise ValueError(f"pairs need 1 <= fast < slow; got {bad[:3]}")
    windows = sorted({w for pair in pairs for w in pair})
    row = {w: i for i, w in enumerate(windows)}
    smas = np.vstack([sma(bars.close, w) for w in windows])
    result = _sweep(
        np.ascontiguousarray(bars.open), np.ascontiguousarray(bars.close), smas,
        np.array([row[f] for f, _ in pairs], dtype=np.int64),
        np.array([row[s] for _, s in pairs], dtype=np.int64),
        float(cash), costs.commission, costs.slippage_bps / 1e4, costs.half_spread_bps / 1e4,
        costs.lot, allow_short,
    )  # fmt: skip
    frame = pd.DataFrame(result, columns=list(STATS))
    frame.insert(0, "slow", [s for _, s in pairs])
    frame.insert(0, "fast", [f for f, _ in pairs])
    frame["trades"] = frame["trades"].astype(int)
    return frame
