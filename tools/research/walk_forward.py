"""Walk-forward validation: in each rolling window pick the best candidate on the training
bars, then trade it on the following test bars. Out-of-sample results stand beside
in-sample ones, and the test windows chain into one out-of-sample equity curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tools.research.backtesters import run_weights_vectorised
from tools.research.bars import BarSeries, Floats
from tools.research.fill_model import Costs, simulate_weights
from tools.research.metrics import Metrics, compute_metrics, sharpe_of
from tools.research.results import PERIODS_PER_YEAR
from tools.research.strategies import Strategy


class WalkForwardConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    train_bars: int = Field(ge=20)
    test_bars: int = Field(ge=5)
    step_bars: int | None = Field(default=None, ge=1)
    select_by: str = "sharpe"


class WalkForwardResult(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    folds: pd.DataFrame
    out_of_sample: Metrics
    in_sample_mean_sharpe: float
    oos_equity: pd.Series


def _score(bars: BarSeries, weights: Floats, costs: Costs, cash: float, select_by: str) -> float:
    """A candidate's in-sample score. Sharpe, the usual one, comes straight from the equity
    curve: a full result (trade list, every metric) for each candidate of each fold was
    most of a walk-forward's time."""
    if select_by == "sharpe":
        equity = simulate_weights(bars.open, bars.close, weights, cash, costs)[0]
        return sharpe_of(equity, PERIODS_PER_YEAR.get(bars.interval, 252.0))
    result = run_weights_vectorised(bars, weights, costs, cash, {})
    return float(getattr(result.metrics, select_by))


def walk_forward(
    bars: BarSeries,
    candidates: list[Strategy],
    costs: Costs,
    config: WalkForwardConfig,
    cash: float = 100_000.0,
) -> WalkForwardResult:
    n = len(bars)
    if config.train_bars + config.test_bars > n:
        raise ValueError(
            f"{n} bars are too few for train {config.train_bars} + test {config.test_bars}"
        )
    if not candidates:
        raise ValueError("walk-forward needs at least one candidate")
    # Weights at t use data up to t only, so they are computed once on the whole series.
    weights: list[Floats] = [c.weights(bars) for c in candidates]
    step = config.step_bars or config.test_bars
    rows = []
    oos_parts: list[pd.Series] = []
    positions: list[pd.Series] = []
    trades, fees, notional = 0, 0.0, 0.0
    capital = cash
    for start in range(0, n - config.train_bars - config.test_bars + 1, step):
        train = slice(start, start + config.train_bars)
        test = slice(train.stop, min(train.stop + config.test_bars, n))
        train_bars, test_bars = (
            bars.slice(train.start, train.stop),
            bars.slice(test.start, test.stop),
        )
        scores = [_score(train_bars, w[train], costs, cash, config.select_by) for w in weights]
        best = int(np.argmax(scores))
        is_result = run_weights_vectorised(train_bars, weights[best][train], costs, cash, {})
        oos = run_weights_vectorised(test_bars, weights[best][test], costs, capital, {})
        capital = float(oos.equity.iloc[-1])
        oos_parts.append(oos.equity)
        positions.append(oos.position)
        trades += oos.metrics.trades
        fees += oos.metrics.fees
        notional += float((oos.trades["units"] * oos.trades["price"]).sum())
        rows.append(
            {
                "train_start": train_bars.ts[0], "train_end": train_bars.ts[-1],
                "test_start": test_bars.ts[0], "test_end": test_bars.ts[-1],
                "chosen": candidates[best].model_dump(),
                "is_sharpe": is_result.metrics.sharpe, "oos_sharpe": oos.metrics.sharpe,
                "is_return": is_result.metrics.total_return,
                "oos_return": oos.metrics.total_return,
            }
        )  # fmt: skip
    equity = pd.concat(oos_parts)
    keep = ~equity.index.duplicated(keep="last")
    equity = equity[keep]
    position = pd.concat(positions)[keep]
    metrics = compute_metrics(
        equity.to_numpy(), position.to_numpy(), pd.DatetimeIndex(equity.index), notional, fees,
        trades=trades, periods_per_year=PERIODS_PER_YEAR.get(bars.interval, 252.0),
    )  # fmt: skip
    folds = pd.DataFrame(rows)
    return WalkForwardResult(
        folds=folds,
        out_of_sample=metrics,
        in_sample_mean_sharpe=float(folds["is_sharpe"].mean()),
        oos_equity=equity,
    )
