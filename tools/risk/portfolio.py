"""The desk's risk view of what it holds: positions, exposure, the book's volatility,
historical VaR and expected shortfall, correlations, and the breach verdict. Today's holdings
are valued at their latest mark (the last daily close, or a newer streamed bar's) and replayed
over the last `HISTORY_DAYS` daily returns."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from core.models.trading import Position
from core.store import MarketDataStore
from gateway import Gateway
from tools.risk.breach import ExposureBreach, exposure_breach
from tools.risk.daily_marks import daily_marks
from tools.risk.exposure import gross_exposure, net_exposure
from tools.risk.tail import historical_tail
from tools.risk.volatility import annualised

HISTORY_DAYS = 250


class PositionLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy: str
    instrument: str
    quantity: float
    average_price: float
    realized_pnl: float
    unrealized_pnl: float

    @classmethod
    def of(cls, p: Position) -> PositionLine:
        return cls(
            strategy=p.strategy_id, instrument=f"{p.venue_id}:{p.symbol}", quantity=p.quantity,
            average_price=p.average_price, realized_pnl=p.realized_pnl,
            unrealized_pnl=p.unrealized_pnl,
        )  # fmt: skip


class PortfolioRisk(BaseModel):
    model_config = ConfigDict(frozen=True)

    positions: list[PositionLine]
    cash: float
    equity: float
    gross_exposure: float
    net_exposure: float
    annual_volatility: float
    """The book's, as a share of equity (see `book_volatility`)."""
    var_95: float
    expected_shortfall_95: float
    correlations: dict[str, dict[str, float]]
    trading_state: str
    limits_version: str
    max_gross_exposure: float
    exposure_breach: ExposureBreach


def holdings(
    positions: list[Position], market: MarketDataStore
) -> tuple[dict[str, float], dict[str, pd.Series]]:
    """Value per instrument ("venue:symbol") at its latest mark, and its daily closes; an
    instrument with fewer than three stored closes is left out. The mark is the last daily
    close, or a newer intraday close where bars are stored after it (the stream's one-minute
    bars): the returns that size VaR stay daily, the value is today's."""
    held = [p for p in positions if p.quantity != 0]
    marks = daily_marks(market, [(p.venue_id, p.symbol) for p in held], HISTORY_DAYS + 1)
    values: dict[str, float] = {}
    closes: dict[str, pd.Series] = {}
    for p in held:
        mark = marks.get((p.venue_id, p.symbol))
        if mark is None:
            continue
        key = f"{p.venue_id}:{p.symbol}"
        closes[key] = mark.closes
        values[key] = values.get(key, 0.0) + p.quantity * mark.mark
    return values, closes


def book_volatility(
    closes: Mapping[str, pd.Series], values: Mapping[str, float], equity: float
) -> float:
    """Annualised volatility of today's book as a share of equity: each day's log returns
    weighted by today's value / equity give the book's daily log return (0 for an instrument
    on a day it has none), annualised as `realised_volatility` does (tools/risk/volatility.py).
    0 with too little history. In numpy: the risk view runs on every exposure question."""
    if not closes:
        return 0.0
    # Nanoseconds since the epoch: a tz-aware index as numpy would be an object array.
    times = {k: pd.DatetimeIndex(c.index).as_unit("ns").asi8 for k, c in closes.items()}
    stamps = np.unique(np.concatenate([t[1:] for t in times.values()]))
    if not len(stamps):
        return 0.0
    daily = np.zeros(len(stamps))
    for key, series in closes.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.diff(np.log(series.to_numpy(dtype=float)))
        weight = values.get(key, 0.0) / max(equity, 1e-9)
        at = np.searchsorted(stamps, times[key][1:])
        np.add.at(daily, at, np.where(np.isfinite(logs), logs, 0.0) * weight)
    start = min(t[0] for t in times.values())
    return annualised(daily, pd.Timedelta(int(stamps[-1] - start), unit="ns")) or 0.0


def measure_portfolio(
    gateway: Gateway, market: MarketDataStore, breach_fraction: float
) -> PortfolioRisk:
    values, closes = holdings(positions := gateway.positions(), market)
    returns = {k: c.pct_change().dropna() for k, c in closes.items()}
    pnl = (
        pd.DataFrame(returns).fillna(0.0) @ pd.Series(values) if returns else pd.Series(dtype=float)
    )
    tail = historical_tail(pnl)
    gross, equity, limits = gross_exposure(values.values()), gateway.equity, gateway.limits
    return PortfolioRisk(
        positions=[PositionLine.of(p) for p in positions],
        cash=gateway.account().cash,
        equity=equity,
        gross_exposure=gross,
        net_exposure=net_exposure(values.values()),
        annual_volatility=book_volatility(closes, values, equity),
        var_95=tail.var,
        expected_shortfall_95=tail.expected_shortfall,
        correlations=pd.DataFrame(returns).corr().round(3).to_dict() if len(returns) > 1 else {},
        trading_state=gateway.trading_state.value,
        limits_version=limits.limits_version,
        max_gross_exposure=limits.max_gross_exposure,
        exposure_breach=exposure_breach(gross, limits.max_gross_exposure, breach_fraction),
    )
