"""A backtest's result: equity, positions, the trade list, metrics and what the gate said."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tools.research.bars import BarSeries, Floats
from tools.research.fill_model import Costs
from tools.research.metrics import Metrics, compute_metrics

PERIODS_PER_YEAR = {"1m": 525_960.0, "5m": 105_192.0, "15m": 35_064.0, "1h": 8_766.0,
                    "4h": 2_191.5, "1d": 252.0, "1w": 52.0}  # fmt: skip


@dataclass(frozen=True)
class GateSummary:
    orders: int
    denied: int
    needs_approval: int
    denial_reasons: tuple[str, ...]


@dataclass(frozen=True)
class BacktestResult:
    engine: str
    equity: pd.Series
    position: pd.Series
    trades: pd.DataFrame
    metrics: Metrics
    gate: GateSummary | None = None
    params: dict[str, object] = field(default_factory=dict)


def trade_list(bars: BarSeries, position: Floats, costs: Costs) -> pd.DataFrame:
    """Every change of position, at the fill model's price (next open, against us)."""
    delta = np.diff(position, prepend=0.0)
    bars_idx = np.flatnonzero(np.abs(delta) > 0)
    units = delta[bars_idx]
    opens = bars.open[bars_idx]
    adverse = (1 + costs.half_spread_bps / 1e4) * (1 + costs.slippage_bps / 1e4)
    favourable = (1 - costs.half_spread_bps / 1e4) * (1 - costs.slippage_bps / 1e4)
    price = np.where(units > 0, opens * adverse, opens * favourable)
    return pd.DataFrame(
        {
            "ts": bars.ts[bars_idx],
            "bar": bars_idx,
            "side": np.where(units > 0, "buy", "sell"),
            "units": np.abs(units),
            "price": price,
            "fee": np.abs(units) * price * costs.commission,
            "position_after": position[bars_idx],
        }
    )


def build_result(
    engine: str,
    bars: BarSeries,
    equity: Floats,
    position: Floats,
    costs: Costs,
    gate: GateSummary | None = None,
    params: dict[str, object] | None = None,
) -> BacktestResult:
    trades = trade_list(bars, position, costs)
    metrics = compute_metrics(
        equity,
        position,
        bars.ts,
        traded_notional=float((trades["units"] * trades["price"]).sum()),
        fees=float(trades["fee"].sum()),
        trades=len(trades),
        periods_per_year=PERIODS_PER_YEAR.get(bars.interval, 252.0),
    )
    return BacktestResult(
        engine=engine,
        equity=pd.Series(equity, index=bars.ts, name="equity"),
        position=pd.Series(position, index=bars.ts, name="position"),
        trades=trades,
        metrics=metrics,
        gate=gate,
        params=params or {},
    )
