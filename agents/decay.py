"""Realised results flow back to research: for every strategy on paper or live, the Sharpe
its fills have earned since they were made (marked to each later daily close) is compared
with the Sharpe its backtest promised, and the lifecycle demotes it when it has decayed."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from agents.desk import Desk
from agents.lifecycle import Lifecycle
from core.store import MarketDataStore, TradeLog

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


def _trading(desk: Desk) -> list[tuple[str, str, dict[str, object], dict[str, object]]]:
    """(key, stage, paper payload, proposal payload) of every strategy now on paper or live."""
    rows = desk.store.client.query(
        "SELECT strategy_key, argMax(stage, ts) AS now_at, "
        "argMaxIf(payload, ts, stage = 'paper') AS paper, "
        "argMaxIf(payload, ts, stage = 'proposed') AS proposed "
        "FROM strategy_lifecycle GROUP BY strategy_key HAVING now_at IN ('paper', 'live')"
    ).result_rows
    return [(str(k), str(s), json.loads(p or "{}"), json.loads(q or "{}")) for k, s, p, q in rows]


def realised_returns(desk: Desk, order_id: str) -> pd.Series:
    """Daily returns on the entry notional of the fills of `order_id`, marked to every daily
    close after the first fill."""
    fills = TradeLog(desk.store).fills(order_id=order_id) if order_id else []
    if not fills:
        return pd.Series(dtype=float)
    first = fills[0]
    signed = sum(float(str(f["quantity"])) * (1 if f["side"] == "buy" else -1) for f in fills)
    entry = sum(float(str(f["quantity"])) * float(str(f["price"])) for f in fills)
    closes = MarketDataStore(desk.store).read_bars(str(first["venue"]), str(first["symbol"]), "1d")
    start = pd.Timestamp(str(first["ts"]))
    start = start.tz_convert("UTC") if start.tzinfo else start.tz_localize("UTC")
    held = closes[pd.to_datetime(closes["ts"], utc=True) >= start.floor("D")]
    if len(held) < 2 or entry <= 0:
        return pd.Series(dtype=float)
    marks = pd.Series(held["close"].to_numpy(float), index=pd.to_datetime(held["ts"], utc=True))
    return (marks.diff().dropna() * signed) / entry


def sharpe(returns: pd.Series) -> float:
    span_days = (returns.index[-1] - returns.index[0]).total_seconds() / 86_400
    per_year = len(returns) / max(span_days / 365.25, 1e-9)
    std = float(returns.std(ddof=1))
    return float(returns.mean()) / std * math.sqrt(per_year) if std > 0 else 0.0


def review_all(desk: Desk) -> list[DecayCheck]:
    """Check every strategy on paper or live; demote (a lifecycle row by risk) the decayed."""
    lifecycle = Lifecycle(desk.store)
    checks = []
    for key, stage, paper, proposed in _trading(desk):
        backtest = float(str(proposed.get("oos_sharpe", 0.0)))
        returns = realised_returns(desk, str(paper.get("order", "")))
        if len(returns) < MIN_DAYS or not np.isfinite(backtest):
            checks.append(DecayCheck(key, stage, len(returns), None, backtest, False))
            continue
        realised = sharpe(returns)
        demoted = lifecycle.review_decay(key, realised, backtest)
        checks.append(DecayCheck(key, stage, len(returns), realised, backtest, demoted))
    return checks
