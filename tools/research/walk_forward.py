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


def folds_of(n: int, config: WalkForwardConfig) -> list[tuple[slice, slice]]:
    """Each fold's training and test windows over `n` bars."""
    if config.train_bars + config.test_bars > n:
        raise ValueError(
            f"{n} bars are too few for train {config.train_bars} + test {config.test_bars}"
        )
    step = config.step_bars or config.test_bars
    return [
        (slice(start, start + config.train_bars),
         slice(start + config.train_bars, min(start + config.train_bars + config.test_bars, n)))
        for start in range(0, n - config.train_bars - config.test_bars + 1, step)
    ]  # fmt: skip


def score_matrix(
    bars: BarSeries,
    candidates: list[Strategy],
    costs: Costs,
    config: WalkForwardConfig,
    cash: float = 100_000.0,
) -> Floats:
    """Each candidate's in-sample score on each fold's training window (folds x candidates):
    the numbers a walk-forward chooses by, computable apart (on a cluster, a chunk of
    candidates a task)."""
    # Weights at t use data up to t only, so they are computed once on the whole series.
    weights = [c.weights(bars) for c in candidates]
    return _scores(bars, weights, folds_of(len(bars), config), costs, cash, config.select_by)


def _scores(
    bars: BarSeries,
    weights: list[Floats],
    folds: list[tuple[slice, slice]],
    costs: Costs,
    cash: float,
    select_by: str,
) -> Floats:
    out = np.empty((len(folds), len(weights)))
    for f, (train, _) in enumerate(folds):
        train_bars = bars.slice(train.start, train.stop)
        for c, w in enumerate(weights):
            out[f, c] = _score(train_bars, w[train], costs, cash, select_by)
    return out


def walk_forward(
    bars: BarSeries,
    candidates: list[Strategy],
    costs: Costs,
    config: WalkForwardConfig,
    cash: float = 100_000.0,
    scores: Floats | None = None,
) -> WalkForwardResult:
    """`scores` (folds x candidates, from `score_matrix`, here or on a cluster) when given,
    else computed here."""
    n = len(bars)
    folds = folds_of(n, config)
    if not candidates:
        raise ValueError("walk-forward needs at least one candidate")
    weights: dict[int, Floats]
    if scores is None:
        every = [c.weights(bars) for c in candidates]
        scores = _scores(bars, every, folds, costs, cash, config.select_by)
        weights = dict(enumerate(every))
    elif scores.shape != (len(folds), len(candidates)):
        raise ValueError(f"scores of shape {scores.shape} for {len(folds)} folds x "
                         f"{len(candidates)} candidates")  # fmt: skip
    else:
        chosen = {int(np.argmax(row)) for row in scores}
        weights = {c: candidates[c].weights(bars) for c in sorted(chosen)}
    rows = []
    oos_parts: list[pd.Series] = []
    positions: list[pd.Series] = []
    trades, fees, notional = 0, 0.0, 0.0
    capital = cash
    for f, (train, test) in enumerate(folds):
        train_bars, test_bars = (
            bars.slice(train.start, train.stop),
            bars.slice(test.start, test.stop),
        )
        best = int(np.argmax(scores[f]))
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
    table = pd.DataFrame(rows)
    return WalkForwardResult(
        folds=table,
        out_of_sample=metrics,
        in_sample_mean_sharpe=float(table["is_sharpe"].mean()),
        oos_equity=equity,
    )
