"""Realised results flow back to research: for every strategy on paper or live, the Sharpe
its fills have earned since they were made (marked to each later daily close) is compared
with the Sharpe its backtest promised, and the lifecycle demotes it when it has decayed. A
strategy's fills are those booked under its own id; one promoted before strategies traded
under their own ids is judged by the fills of its first paper order."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.store import MarketDataStore, Store, TradeLog
from tools.lifecycle import Lifecycle

MIN_DAYS = 20
"""Fewer realised daily returns than this say nothing about decay; the strategy is left."""


@dataclass(frozen=True)
class DecayCheck:
    key: str
    stage: str
    days: int
    realised_sharpe: float | None
    backtest_sharpe: float
    demoted: bool


def _utc(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(str(value))
    return ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")


def realised_returns(
    store: Store, order_id: str = "", *, strategy_id: str | None = None
) -> pd.Series:
    """Daily returns of a strategy's fills (those of `strategy_id`, or of one order), marked
    to every daily close from the day of the first fill: each day's change in the value of
    what was held at the previous close, over the entry notional booked by then."""
    log = TradeLog(store)
    if strategy_id:
        fills = log.fills(strategy_id)
    else:
        fills = log.fills(order_id=order_id) if order_id else []
    if not fills:
        return pd.Series(dtype=float)
    first = fills[0]
    closes = MarketDataStore(store).read_bars(str(first["venue"]), str(first["symbol"]), "1d")
    held = closes[pd.to_datetime(closes["ts"], utc=True) >= _utc(first["ts"]).floor("D")]
    if len(held) < 2:
        return pd.Series(dtype=float)
    days = pd.to_datetime(held["ts"], utc=True)
    marks = pd.Series(held["close"].to_numpy(float), index=days)
    # What was held, and the entry notional booked, by the end of each bar's day.
    fill_days = pd.DatetimeIndex([_utc(f["ts"]).floor("D") for f in fills])
    signed = np.array(
        [float(str(f["quantity"])) * (1 if f["side"] == "buy" else -1) for f in fills]
    )
    notional = np.array([float(str(f["quantity"])) * float(str(f["price"])) for f in fills])
    upto = np.searchsorted(fill_days.to_numpy(), days.dt.floor("D").to_numpy(), side="right")
    position = np.concatenate([[0.0], np.cumsum(signed)])[upto]
    entry = np.concatenate([[0.0], np.cumsum(notional)])[upto]
    pnl = marks.diff().to_numpy()[1:] * position[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(entry[:-1] > 0, pnl / entry[:-1], 0.0)
    if entry[-1] <= 0:
        return pd.Series(dtype=float)
    return pd.Series(returns, index=marks.index[1:])


def sharpe(returns: pd.Series) -> float:
    span_days = (returns.index[-1] - returns.index[0]).total_seconds() / 86_400
    per_year = len(returns) / max(span_days / 365.25, 1e-9)
    std = float(returns.std(ddof=1))
    return float(returns.mean()) / std * math.sqrt(per_year) if std > 0 else 0.0


def review_all(store: Store) -> list[DecayCheck]:
    """Check every strategy on paper or live; demote (a lifecycle row by risk) the decayed."""
    lifecycle = Lifecycle(store)
    checks = []
    for strategy in lifecycle.log.trading():
        key, stage = strategy.strategy_key, strategy.stage
        backtest = float(str(strategy.proposed.get("oos_sharpe", 0.0)))
        returns = realised_returns(store, strategy_id=key)
        if returns.empty:
            returns = realised_returns(store, str(strategy.paper.get("order", "")))
        if len(returns) < MIN_DAYS or not np.isfinite(backtest):
            checks.append(DecayCheck(key, stage, len(returns), None, backtest, False))
            continue
        realised = sharpe(returns)
        demoted = lifecycle.review_decay(key, realised, backtest)
        checks.append(DecayCheck(key, stage, len(returns), realised, backtest, demoted))
    return checks
