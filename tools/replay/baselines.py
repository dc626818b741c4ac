"""What the desk has to beat, run under the replay's own costs and starting cash over its
universe and days: equal-weight buy-and-hold, a plain moving-average rule and random long/flat
entries.

Every baseline splits the cash into one equal slot per instrument; a slot is either all in
its instrument or all in cash, so there is no leverage, no shorting and no rebalancing
between slots. A decision made with data up to day t's close trades at day t+1's open, at
the paper venue's price (the open moved against us by the half spread, then the slippage)
plus the taker fee on the notional, as `gateway/src/paper.rs` fills a market order. Days are
marked at the close. The venue's liquidity cap is not applied: a slot fills in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tools.replay.models import ReplayCosts, ReplayRun

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Curve:
    """A daily equity curve (marked at each day's close) and the notional traded each day."""

    name: str
    equity: pd.Series
    traded: pd.Series


@dataclass(frozen=True)
class RandomCurves:
    median: Curve
    """The seed whose final equity is the median: a path one could have traded, unlike a
    day-by-day median, whose drawdowns would be smoothed away."""
    band: pd.DataFrame
    """Day-by-day 5%, 50% and 95% quantiles of equity across seeds (columns q05, q50, q95)."""
    final_returns: Floats
    """Each seed's total return."""


@dataclass(frozen=True)
class Baselines:
    buy_and_hold: Curve
    sma: Curve
    random: RandomCurves


def replay_days(run: ReplayRun) -> pd.DatetimeIndex:
    """The days the desk was marked on (every calendar day of the run if it left no marks)."""
    if run.marks:
        return pd.DatetimeIndex([pd.Timestamp(m.day) for m in run.marks], name="day")
    return pd.date_range(run.start, run.end, freq="D", name="day")


def daily_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One instrument's bars indexed by their UTC calendar day (naive midnight)."""
    ts = pd.to_datetime(frame["ts"], utc=True).dt.tz_localize(None).dt.normalize()
    out = frame.set_index(pd.DatetimeIndex(ts, name="day"))[["open", "close"]].astype(float)
    return out[~out.index.duplicated(keep="last")].sort_index()


def _require(bars: Mapping[str, pd.DataFrame], universe: list[str]) -> None:
    missing = [i for i in universe if i not in bars]
    if missing:
        raise ValueError(f"no bars for {', '.join(missing)}")


def close_panel(bars: Mapping[str, pd.DataFrame], universe: list[str]) -> pd.DataFrame:
    """Daily closes over the bars' whole history (before the run too), one column each."""
    _require(bars, universe)
    return pd.DataFrame({i: daily_frame(bars[i])["close"] for i in universe}).sort_index()


def _panel(
    bars: Mapping[str, pd.DataFrame], universe: list[str], days: pd.DatetimeIndex
) -> tuple[Floats, Floats]:
    """Opens (NaN where an instrument has no bar that day: it cannot trade) and closes
    (carried forward, for marking) on the replay's days, shaped (days, instruments)."""
    _require(bars, universe)
    frames = [daily_frame(bars[i]).reindex(days) for i in universe]
    opens = np.column_stack([f["open"].to_numpy(float) for f in frames])
    closes = np.column_stack([f["close"].ffill().to_numpy(float) for f in frames])
    return opens, closes


def simulate_slots(
    opens: Floats, closes: Floats, target: Bools, cash: float, costs: ReplayCosts
) -> tuple[Floats, Floats]:
    """Equity and traded notional per day, shaped (days, scenarios), for long/flat targets
    shaped (days, scenarios, instruments): target[t] is decided at day t's close and filled
    at day t+1's open, or at the next open there is. Day 0 is marked at the starting cash.

    A slot's value changes by one factor a day (the close's move while held, the entry or
    exit price and fee on the day it trades), so the whole history is one cumulative
    product, not a loop over days."""
    days = closes.shape[0]
    step = np.arange(days)[:, None, None]
    wanted = np.zeros(target.shape, dtype=bool)
    wanted[1:] = target[:-1]
    fills = np.broadcast_to(np.isfinite(opens)[:, None, :], target.shape).copy()
    fills[0] = True
    # Without an open the slot keeps what it held: carry the last fillable day's wish.
    last = np.maximum.accumulate(np.where(fills, step, 0), axis=0)
    held = np.take_along_axis(wanted, last, axis=0)
    before = np.zeros_like(held)
    before[1:] = held[:-1]
    fee = costs.taker_fee_bps / 1e4
    buy_px = (opens * (1 + costs.half_spread_bps / 1e4) * (1 + costs.slippage_bps / 1e4))[:, None]
    sell_px = (opens * (1 - costs.half_spread_bps / 1e4) * (1 - costs.slippage_bps / 1e4))[:, None]
    close = closes[:, None]
    prev_close = np.vstack([closes[:1], closes[:-1]])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.select(
            [held & before, held & ~before, ~held & before],
            [close / prev_close, close / (buy_px * (1 + fee)), sell_px * (1 - fee) / prev_close],
            default=1.0,
        )
        value = cash / target.shape[2] * np.cumprod(factor, axis=0)
        value_before = np.concatenate([value[:1], value[:-1]])
        traded = np.select(
            [held & ~before, ~held & before],
            [value_before / (1 + fee), value_before * sell_px / prev_close],
            default=0.0,
        )
    return value.sum(axis=2), traded.sum(axis=2)


def _curve(name: str, days: pd.DatetimeIndex, equity: Floats, traded: Floats) -> Curve:
    return Curve(name, pd.Series(equity, index=days, name=name), pd.Series(traded, index=days))


def buy_and_hold(run: ReplayRun, bars: Mapping[str, pd.DataFrame]) -> Curve:
    """Equal weight across the universe, bought at the open after the first replay day."""
    days = replay_days(run)
    opens, closes = _panel(bars, run.universe, days)
    target = np.ones((len(days), 1, len(run.universe)), dtype=bool)
    equity, traded = simulate_slots(opens, closes, target, run.cash, run.costs)
    return _curve("buy_and_hold", days, equity[:, 0], traded[:, 0])


def sma_rule(run: ReplayRun, bars: Mapping[str, pd.DataFrame], window: int = 50) -> Curve:
    """Each slot long while its close is above its `window`-day mean (history before the run
    counts; flat until the mean exists)."""
    days = replay_days(run)
    opens, closes = _panel(bars, run.universe, days)
    history = close_panel(bars, run.universe)
    signal = history > history.rolling(window, min_periods=window).mean()
    target = signal.reindex(days, fill_value=False).to_numpy(bool)[:, None, :]
    equity, traded = simulate_slots(opens, closes, target, run.cash, run.costs)
    return _curve(f"sma_{window}", days, equity[:, 0], traded[:, 0])


def random_entries(
    run: ReplayRun,
    bars: Mapping[str, pd.DataFrame],
    seeds: int = 50,
    every: int = 7,
    seed: int = 0,
) -> RandomCurves:
    """`seeds` paths where each slot is long or flat by a fair coin, re-tossed every `every`
    days (weekly by default) from the first replay day; the same `seed` draws the same paths."""
    days = replay_days(run)
    opens, closes = _panel(bars, run.universe, days)
    rng = np.random.default_rng(seed)
    draws = rng.random((-(-len(days) // every), seeds, len(run.universe))) < 0.5
    target = draws[np.arange(len(days)) // every]
    equity, traded = simulate_slots(opens, closes, target, run.cash, run.costs)
    final = equity[-1] / equity[0] - 1
    middle = int(np.argsort(final, kind="stable")[(seeds - 1) // 2])
    band = pd.DataFrame(
        np.quantile(equity, [0.05, 0.5, 0.95], axis=1).T, index=days, columns=["q05", "q50", "q95"]
    )
    median = _curve("random_median", days, equity[:, middle], traded[:, middle])
    return RandomCurves(median=median, band=band, final_returns=final)


def baselines(
    run: ReplayRun,
    bars: Mapping[str, pd.DataFrame],
    *,
    sma_window: int = 50,
    seeds: int = 50,
    every: int = 7,
    seed: int = 0,
) -> Baselines:
    return Baselines(
        buy_and_hold=buy_and_hold(run, bars),
        sma=sma_rule(run, bars, sma_window),
        random=random_entries(run, bars, seeds, every, seed),
    )
