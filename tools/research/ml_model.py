"""The ML signal: a small torch MLP on engineered features predicting the sign of the
return a position would earn under the fill model (held from the next open to the one
after). Trained walk-forward; validated with purged k-fold and an embargo; saved with its
metadata. Runs on CUDA where a GPU is present, else on the CPU: the same code."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from tools.research.bars import BarSeries, Floats
from tools.research.indicators import log_returns, rolling_std, sma
from tools.research.ml_config import MlpConfig

FEATURES = ("ret_1", "ret_2", "ret_5", "ret_10", "ret_20", "vol_10", "vol_20", "z_20", "sma_10_50")
HORIZON = 2  # a label looks two opens ahead: purge at least this many bars


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def features(bars: BarSeries) -> npt.NDArray[np.float64]:
    """One row per bar, using data up to that bar's close only."""
    close = bars.close
    r = log_returns(close)
    cumulative = np.nancumsum(np.nan_to_num(r))
    columns = []
    for k in (1, 2, 5, 10, 20):
        past = np.full(len(close), np.nan)
        past[k:] = cumulative[k:] - cumulative[:-k]
        columns.append(past)
    columns += [rolling_std(r, 10), rolling_std(r, 20)]
    std20 = rolling_std(close, 20)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns.append(np.where(std20 > 0, (close - sma(close, 20)) / std20, np.nan))
        columns.append(sma(close, 10) / sma(close, 50) - 1.0)
    return np.column_stack(columns)


def labels(bars: BarSeries) -> Floats:
    """1 if the open two bars ahead is above the next open, else 0; NaN at the end."""
    y = np.full(len(bars), np.nan)
    y[:-HORIZON] = (bars.open[HORIZON:] > bars.open[1:-1]).astype(np.float64)
    return y


def _network(n_in: int, config: MlpConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(config.layers):
        layers += [nn.Linear(width, config.hidden), nn.ReLU()]
        width = config.hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


@dataclass
class TrainedModel:
    network: nn.Sequential
    mean: Floats
    std: Floats
    config: MlpConfig

    def predict(self, x: npt.NDArray[np.float64]) -> Floats:
        """Probability of an up move per row; NaN where a feature is missing."""
        out = np.full(len(x), np.nan)
        ok = np.isfinite(x).all(axis=1)
        if ok.any():
            dev = next(self.network.parameters()).device
            z = torch.tensor((x[ok] - self.mean) / self.std, dtype=torch.float32, device=dev)
            with torch.no_grad():
                out[ok] = torch.sigmoid(self.network(z)).squeeze(1).cpu().numpy()
        return out

    def weights(self, x: npt.NDArray[np.float64]) -> Floats:
        p = self.predict(x)
        w = np.where(p > 0.5 + self.config.threshold, 1.0, 0.0)
        if self.config.allow_short:
            w = np.where(p < 0.5 - self.config.threshold, -1.0, w)
        return np.where(np.isfinite(p), w, 0.0)


def train(x: npt.NDArray[np.float64], y: Floats, config: MlpConfig) -> TrainedModel:
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
    if ok.sum() < 50:
        raise ValueError(f"only {int(ok.sum())} usable rows to train on; need at least 50")
    x, y = x[ok], y[ok]
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    torch.manual_seed(config.seed)
    dev = device()
    network = _network(x.shape[1], config).to(dev)
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    xt = torch.tensor((x - mean) / std, dtype=torch.float32, device=dev)
    yt = torch.tensor(y, dtype=torch.float32, device=dev).unsqueeze(1)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator(device="cpu").manual_seed(config.seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(xt), generator=generator).to(dev)
        for start in range(0, len(xt), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(network(xt[batch]), yt[batch])
            loss.backward()
            optimiser.step()
    network.eval()
    return TrainedModel(network, mean, std, config)


def purged_kfold(
    n: int, k: int, purge: int = HORIZON, embargo: int = 0
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Contiguous test folds; training drops `purge` bars before each test fold (their labels
    look into it) and `embargo` bars after it (serial correlation)."""
    if k < 2 or n < 2 * k:
        raise ValueError(f"purged k-fold needs k >= 2 and at least 2k rows (n={n}, k={k})")
    bounds = np.linspace(0, n, k + 1).astype(int)
    folds = []
    for a, b in itertools.pairwise(bounds):
        test = np.arange(a, b)
        keep = np.ones(n, dtype=bool)
        keep[max(0, a - purge) : min(n, b + embargo)] = False
        folds.append((np.flatnonzero(keep), test))
    return folds


def cross_validate(
    bars: BarSeries, config: MlpConfig, k: int = 5, embargo: int = 10
) -> list[dict[str, float]]:
    """Out-of-fold accuracy and log loss per purged fold."""
    x, y = features(bars), labels(bars)
    results = []
    for train_idx, test_idx in purged_kfold(len(bars), k, HORIZON, embargo):
        model = train(x[train_idx], y[train_idx], config)
        p = model.predict(x[test_idx])
        ok = np.isfinite(p) & np.isfinite(y[test_idx])
        pk, yk = np.clip(p[ok], 1e-6, 1 - 1e-6), y[test_idx][ok]
        results.append(
            {
                "accuracy": float(((pk > 0.5) == (yk > 0.5)).mean()) if ok.any() else float("nan"),
                "log_loss": float(-(yk * np.log(pk) + (1 - yk) * np.log(1 - pk)).mean())
                if ok.any()
                else float("nan"),
                "test_rows": int(ok.sum()),
            }
        )
    return results


def walk_forward_weights(
    bars: BarSeries, config: MlpConfig, train_bars: int, test_bars: int
) -> tuple[Floats, list[dict[str, Any]]]:
    """Weights from models retrained every `test_bars` on the preceding `train_bars`; zero
    before the first test window. Training labels never reach into the test window."""
    x, y = features(bars), labels(bars)
    weights = np.zeros(len(bars))
    folds = []
    for start in range(train_bars, len(bars), test_bars):
        train_slice = slice(start - train_bars, start - HORIZON)
        model = train(x[train_slice], y[train_slice], config)
        stop = min(start + test_bars, len(bars))
        weights[start:stop] = model.weights(x[start:stop])
        folds.append({"train_start": start - train_bars, "test_start": start, "test_stop": stop})
    return weights, folds


def save(model: TrainedModel, directory: Path, metadata: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(model.network.state_dict(), directory / "model.pt")
    meta = {
        "features": list(FEATURES),
        "horizon": HORIZON,
        "config": model.config.model_dump(),
        "mean": model.mean.tolist(),
        "std": model.std.tolist(),
        "torch": torch.__version__,
        "trained_on": str(device()),
        **metadata,
    }
    (directory / "metadata.json").write_text(json.dumps(meta, indent=2, default=str))
    return directory


def load(directory: Path) -> TrainedModel:
    meta = json.loads((directory / "metadata.json").read_text())
    if meta.get("features") != list(FEATURES):
        raise ValueError(f"{directory} was trained on other features: {meta.get('features')}")
    config = MlpConfig.model_validate(meta["config"])
    network = _network(len(FEATURES), config)
    network.load_state_dict(
        torch.load(directory / "model.pt", map_location="cpu", weights_only=True)
    )
    network.to(device()).eval()
    return TrainedModel(network, np.asarray(meta["mean"]), np.asarray(meta["std"]), config)
