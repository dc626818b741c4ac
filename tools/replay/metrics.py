"""Daily-curve metrics with stationary-bootstrap 95% intervals, and the same split by market
regime.

The definitions match `tools.research.metrics.compute_metrics` except turnover (Sharpe with
the sample standard deviation, Sortino over the root mean square of the losing days,
drawdown from the running peak), written over a resample axis so that thousands of
bootstrap paths cost one numpy pass; that module is not imported because it loads the store
(chdb) with it.

Days are resampled in blocks of random length (Politis & Romano, 1994; mean `block` days,
wrapping around the end), so volatility clustering and short trends survive the resampling.
Turnover is the mean daily traded notional as a share of the previous close's equity, per
year, so that a resampled day keeps its share.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]
Regime = Literal["bull", "bear", "unknown"]
REGIMES: tuple[Regime, ...] = ("bull", "bear", "unknown")
METRICS = ("total_return", "annual_return", "max_drawdown", "sharpe", "sortino", "turnover")


class Interval(BaseModel):
    """A point estimate and its bootstrap 95% interval."""

    model_config = ConfigDict(frozen=True)

    value: float
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


class SeriesMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_return: Interval
    annual_return: Interval
    max_drawdown: Interval
    sharpe: Interval
    sortino: Interval
    turnover: Interval
    """Notional traded per year as a multiple of equity (the mean daily share, x365)."""


class RegimeMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    days: int
    """Daily returns earned in this regime."""
    metrics: SeriesMetrics | None
    """None with fewer than two such days."""


class BootstrapConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    periods_per_year: float = 365.0
    """Crypto trades every calendar day."""
    resamples: int = 1_000
    """Enough for a 95% interval's bounds; 2,000 doubles the time (~0.3-0.7 s for four
    1,430-day curves on two cores)."""
    block: float = 20.0
    """Mean block length in days."""
    seed: int = 0


def daily_inputs(equity: pd.Series, traded: pd.Series) -> tuple[Floats, Floats]:
    """Each day's return and its traded notional as a share of the previous close's equity.
    What was traded on the first day (before any return) counts with the second."""
    values = equity.to_numpy(float)
    notional = traded.reindex(equity.index, fill_value=0.0).to_numpy(float)
    returns = values[1:] / values[:-1] - 1
    rates = notional[1:] / values[:-1]
    if len(rates):
        rates[0] += notional[0] / values[0]
    return returns, rates


def metric_arrays(returns: Floats, rates: Floats, periods_per_year: float) -> dict[str, Floats]:
    """Every metric for each row of `returns` and `rates` (shaped (paths, days)). Rows, not
    columns, are paths: numpy accumulates along the last axis several times faster."""
    paths, days = returns.shape
    if days == 0:
        return {k: np.zeros(paths) for k in METRICS}
    growth = np.cumprod(1 + returns, axis=1)
    final = growth[:, -1]
    peak = np.maximum.accumulate(growth, axis=1)
    np.maximum(peak, 1.0, out=peak)  # the starting equity is the first peak
    np.divide(growth, peak, out=peak)
    years = days / periods_per_year
    mean = returns.mean(axis=1)
    std = returns.std(axis=1, ddof=1) if days > 1 else np.zeros(paths)
    losses = np.minimum(returns, 0.0)
    np.square(losses, out=losses)
    down = np.sqrt(losses.mean(axis=1))
    root = math.sqrt(periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A flat curve has no volatility: its ratios are 0, as in tools.research.metrics.
        sharpe = np.where(std > 0, mean / std, 0.0) * root
        sortino = np.where(down > 0, mean / down, 0.0) * root
        annual = np.where(final > 0, np.abs(final) ** (1 / years) - 1, -1.0)
    return {
        "total_return": final - 1,
        "annual_return": annual,
        "max_drawdown": peak.min(axis=1) - 1,
        "sharpe": sharpe,
        "sortino": sortino,
        # The mean daily share of equity traded, per year: resampled days keep their share
        # where a notional would lose the equity it was traded against.
        "turnover": rates.mean(axis=1) * periods_per_year,
    }


def bootstrap_indices(days: int, resamples: int, block: float, seed: int) -> Ints:
    """Stationary-bootstrap day indices, shaped (resamples, days): each day starts a new
    block with probability 1/block at a uniform day, else follows the previous one."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, days, size=(resamples, days), dtype=np.int32)
    new = rng.random((resamples, days), dtype=np.float32) < 1 / block
    new[:, 0] = True
    position = np.arange(days, dtype=np.int32)
    anchor = np.maximum.accumulate(np.where(new, position, 0), axis=1)
    out: Ints = np.take_along_axis(starts, anchor, axis=1)
    out += position - anchor
    out[out >= days] -= days  # wrap around the end (cheaper than %)
    return out


def day_counts(index: Ints) -> Floats:
    """How many times each resample drew each day, shaped like `index`."""
    paths, days = index.shape
    flat = (index + (np.arange(paths) * days)[:, None]).ravel()
    counts = np.bincount(flat, minlength=paths * days).reshape(paths, days)
    return counts.astype(np.float64)


def resampled_metrics(
    returns: Floats, rates: Floats, index: Ints, counts: Floats, periods_per_year: float
) -> dict[str, Floats]:
    """`metric_arrays` of `returns[index]` and `rates[index]`, faster: every metric but the
    drawdown is a sum over days, which one matrix product with the day counts gives for all
    resamples at once; only the drawdown walks the resampled paths (in float32, ample for
    an interval's bounds)."""
    days = len(returns)
    log_growth = np.log(np.maximum(1 + returns, 1e-300))  # a day that lost everything stays finite
    columns = np.column_stack(
        [returns, returns**2, np.minimum(returns, 0.0) ** 2, rates, log_growth]
    )
    s1, s2, s3, s4, s5 = (counts @ columns).T
    mean = s1 / days
    std = np.sqrt(np.maximum(s2 - s1 * mean, 0.0) / max(days - 1, 1))
    down = np.sqrt(s3 / days)
    final = np.exp(s5)
    growth = np.cumprod(1 + returns.astype(np.float32)[index], axis=1)
    peak = np.maximum.accumulate(growth, axis=1)
    np.maximum(peak, 1.0, out=peak)
    np.divide(growth, peak, out=peak)
    root = math.sqrt(periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(std > 0, mean / std, 0.0) * root
        sortino = np.where(down > 0, mean / down, 0.0) * root
    return {
        "total_return": final - 1,
        "annual_return": final ** (periods_per_year / days) - 1,
        "max_drawdown": peak.min(axis=1).astype(np.float64) - 1,
        "sharpe": sharpe,
        "sortino": sortino,
        "turnover": s4 / days * periods_per_year,
    }


def _interval(value: float, draws: Floats) -> Interval:
    low, high = np.quantile(draws, [0.025, 0.975])
    return Interval(value=value, low=float(low), high=float(high))


class Bootstrap:
    """Metrics with bootstrap intervals under one config. Deterministic given the seed, and
    every curve of one length is resampled on the same days (paired), so the intervals of
    curves over the same replay can be compared; the indices are drawn once per length."""

    def __init__(self, config: BootstrapConfig | None = None) -> None:
        self.config = config or BootstrapConfig()
        self._drawn: dict[int, tuple[Ints, Floats]] = {}

    def indices(self, days: int) -> tuple[Ints, Floats]:
        """The resampled days for a curve of `days` returns, and how often each was drawn."""
        if days not in self._drawn:
            c = self.config
            index = bootstrap_indices(days, c.resamples, c.block, c.seed)
            self._drawn[days] = index, day_counts(index)
        return self._drawn[days]

    def _arrays(
        self, returns: Floats, rates: Floats
    ) -> tuple[dict[str, Floats], dict[str, Floats]]:
        ppy = self.config.periods_per_year
        point = metric_arrays(returns[None, :], rates[None, :], ppy)
        if len(returns) < 2:
            return point, point
        index, counts = self.indices(len(returns))
        return point, resampled_metrics(returns, rates, index, counts, ppy)

    def _summarise(self, returns: Floats, rates: Floats) -> SeriesMetrics:
        point, draws = self._arrays(returns, rates)
        return SeriesMetrics(**{k: _interval(float(point[k][0]), draws[k]) for k in METRICS})

    def metrics(self, equity: pd.Series, traded: pd.Series) -> SeriesMetrics:
        """One daily curve's metrics with their 95% intervals."""
        return self._summarise(*daily_inputs(equity, traded))

    def difference(self, a: pd.Series, b: pd.Series, metric: str = "total_return") -> Interval:
        """`metric` of curve a minus that of curve b: both resampled on the same days, so
        what the market did cancels out of the interval."""
        zeros = pd.Series(0.0, index=a.index)
        pa, da = self._arrays(*daily_inputs(a, zeros))
        pb, db = self._arrays(*daily_inputs(b.reindex(a.index), zeros))
        return _interval(float(pa[metric][0] - pb[metric][0]), da[metric] - db[metric])

    def regimes(
        self, equity: pd.Series, traded: pd.Series, labels: pd.Series
    ) -> dict[str, RegimeMetrics]:
        """The metrics over the days of each regime, joined end to end. A day's return is
        put under the regime known at the previous close: the one its positions were held
        in."""
        returns, rates = daily_inputs(equity, traded)
        held_in = labels.reindex(equity.index, fill_value="unknown").to_numpy()[:-1]
        out: dict[str, RegimeMetrics] = {}
        for regime in REGIMES:
            mask = held_in == regime
            days = int(mask.sum())
            metrics = self._summarise(returns[mask], rates[mask]) if days >= 2 else None
            out[regime] = RegimeMetrics(days=days, metrics=metrics)
        return out


def series_metrics(
    equity: pd.Series, traded: pd.Series, config: BootstrapConfig | None = None
) -> SeriesMetrics:
    return Bootstrap(config).metrics(equity, traded)


def equal_weight_index(closes: pd.DataFrame) -> pd.Series:
    """The universe as one curve: each day the mean close-to-close return of the
    instruments that traded both days (rebalanced daily, so late listings join)."""
    returns = closes.pct_change(fill_method=None).mean(axis=1, skipna=True).fillna(0.0)
    return (1 + returns).cumprod().rename("universe")


def regime_labels(index: pd.Series, days: pd.DatetimeIndex, window: int = 200) -> pd.Series:
    """Bull where the index closes above its `window`-day mean as known that day, bear at or
    below it, unknown before the mean exists."""
    mean = index.rolling(window, min_periods=window).mean()
    state = np.where(mean.isna(), "unknown", np.where(index > mean, "bull", "bear"))
    labels = pd.Series(state, index=index.index)
    return labels.reindex(days, fill_value="unknown").rename("regime")
