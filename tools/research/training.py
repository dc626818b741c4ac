"""Training the ML signal end to end on one machine, wherever that is (here, or a cluster
node as one SLURM job): purged k-fold CV, walk-forward out-of-sample weights and their
backtest, then the final model on all the bars, saved with its metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.research.bars import BarSeries
from tools.research.fill_model import Costs
from tools.research.ml_config import MlpConfig


def train_and_save(
    bars: BarSeries,
    config: MlpConfig,
    folds: int,
    embargo: int,
    train_bars: int,
    test_bars: int,
    costs: Costs,
    cash: float,
    folder: Path,
) -> dict[str, Any]:
    """The model saved in `folder`; its CV folds, out-of-sample metrics (a dict) and the
    device it trained on."""
    from tools.research import ml_model  # torch loads here, not when the desk starts
    from tools.research.backtesters import run_weights_vectorised

    cv = ml_model.cross_validate(bars, config, folds, embargo)
    weights, _ = ml_model.walk_forward_weights(bars, config, train_bars, test_bars)
    oos = run_weights_vectorised(bars, weights, costs, cash, {})
    model = ml_model.train(ml_model.features(bars), ml_model.labels(bars), config)
    ml_model.save(
        model,
        folder,
        {"data_version": bars.data_version, "instrument": bars.instrument_id,
         "interval": bars.interval, "cv": cv, "walk_forward_oos": oos.metrics.model_dump()},
    )  # fmt: skip
    return {"cv": cv, "oos": oos.metrics.model_dump(), "device": str(ml_model.device())}
