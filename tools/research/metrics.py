"""Performance metrics from an equity curve and its positions, and the deflated Sharpe
ratio for the best of many tries (Bailey & Lopez de Prado, 2014)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from tools.research.bars import Floats

EULER_GAMMA = 0.5772156649015329


class Metrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_return: float
    cagr: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_bars: int
    max_drawdown_days: float
    turnover: float
    hit_rate: float
    profit_factor: float
    exposure: float
    trades: int
    fees: float
    final_equity: float


def _ratio(a: float, b: float) -> float:
    return a / b if b not in (0.0, -0.0) and math.isfinite(b) else 0.0


def period_returns(equity: Floats) -> Floats:
    returns = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(0)
    return returns[np.isfinite(returns)]


def _mean_std(returns: Floats) -> tuple[float, float]:
    if len(returns) < 2:
        return 0.0, 0.0
    return float(returns.mean()), float(returns.std(ddof=1))


def sharpe_of(equity: Floats, periods_per_year: float, returns: Floats | None = None) -> float:
    """The annualised Sharpe of an equity curve, exactly as `compute_metrics` reports it
    (walk-forward scores its candidates with this alone, without the rest)."""
    mean, std = _mean_std(period_returns(equity) if returns is None else returns)
    return _ratio(mean, std) * math.sqrt(periods_per_year)


def drawdown(equity: Floats) -> Floats:
    peak = np.maximum.accumulate(equity)
    out: Floats = equity / peak - 1.0
    return out


def round_trip_pnl(equity: Floats, position: Floats) -> Floats:
    """PnL of each holding period (entry to exit or flip), net of costs, from the equity
    curve: from the close before a position starts to the close of the bar it changes on."""
    sign = np.sign(position)
    changes = np.flatnonzero(sign[1:] != sign[:-1]) + 1
    starts = changes[sign[changes] != 0]
    if len(starts) == 0:
        return np.zeros(0)
    following = np.searchsorted(changes, starts, side="right")
    ends = np.where(
        following < len(changes), changes[np.minimum(following, len(changes) - 1)], len(sign) - 1
    )
    out: Floats = equity[ends] - equity[starts - 1]
    return out


def longest_drawdown(dd: Floats, ts: pd.DatetimeIndex) -> tuple[int, float]:
    """Bars and days of the longest run under water."""
    under = np.concatenate([[False], dd < 0, [False]])
    edges = np.flatnonzero(under[1:] != under[:-1])
    if len(edges) == 0:
        return 0, 0.0
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    first, last = int(starts[k]), int(ends[k]) - 1
    days = (ts[last] - ts[max(first - 1, 0)]).total_seconds() / 86_400
    return int(ends[k] - starts[k]), days


def compute_metrics(
    equity: Floats,
    position: Floats,
    ts: pd.DatetimeIndex,
    traded_notional: float,
    fees: float,
    trades: int,
    periods_per_year: float,
) -> Metrics:
    returns = period_returns(equity)
    years = max((ts[-1] - ts[0]).total_seconds() / (365.25 * 86_400), 1e-9) if len(ts) > 1 else 1e-9
    total = equity[-1] / equity[0] - 1.0
    cagr = (equity[-1] / equity[0]) ** (1 / years) - 1.0 if equity[-1] > 0 else -1.0
    mean, std = _mean_std(returns)
    downside = returns[returns < 0]
    down = float(np.sqrt((downside**2).sum() / len(returns))) if len(returns) else 0.0
    dd = drawdown(equity)
    max_dd = float(dd.min())
    longest, longest_days = longest_drawdown(dd, ts)
    trips = round_trip_pnl(equity, position)
    gains, losses = trips[trips > 0].sum(), -trips[trips < 0].sum()
    return Metrics(
        total_return=float(total),
        cagr=float(cagr),
        annual_volatility=std * math.sqrt(periods_per_year),
        sharpe=sharpe_of(equity, periods_per_year, returns),
        sortino=_ratio(mean, down) * math.sqrt(periods_per_year),
        calmar=_ratio(cagr, abs(max_dd)),
        max_drawdown=max_dd,
        max_drawdown_bars=longest,
        max_drawdown_days=longest_days,
        turnover=_ratio(traded_notional, float(np.mean(equity)) * years),
        hit_rate=_ratio(float((trips > 0).sum()), float(len(trips))),
        profit_factor=_ratio(float(gains), float(losses))
        if losses > 0
        else float(gains > 0) * 999.0,
        exposure=float((position != 0).mean()) if len(position) else 0.0,
        trades=trades,
        fees=fees,
        final_equity=float(equity[-1]),
    )


def deflated_sharpe(returns: Floats, trial_sharpes: Floats) -> float:
    """Probability that the best strategy's per-period Sharpe beats what the best of
    `len(trial_sharpes)` unskilled tries would show, given its skew and kurtosis."""
    from scipy import stats  # loaded by the one function that needs it, not at start

    returns = returns[np.isfinite(returns)]
    n_trials = len(trial_sharpes)
    if len(returns) < 3 or n_trials < 1 or returns.std(ddof=1) == 0:
        return 0.0
    sr = returns.mean() / returns.std(ddof=1)
    var_trials = float(np.var(trial_sharpes, ddof=1)) if n_trials > 1 else 0.0
    if n_trials > 1:
        z1 = stats.norm.ppf(1 - 1 / n_trials)
        z2 = stats.norm.ppf(1 - 1 / (n_trials * math.e))
        sr0 = math.sqrt(var_trials) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)
    else:
        sr0 = 0.0
    skew = float(stats.skew(returns))
    kurt = float(stats.kurtosis(returns, fisher=False))
    denom = 1 - skew * sr + (kurt - 1) / 4 * sr**2
    if denom <= 0:
        return 0.0
    return float(stats.norm.cdf((sr - sr0) * math.sqrt(len(returns) - 1) / math.sqrt(denom)))
