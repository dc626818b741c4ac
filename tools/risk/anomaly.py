"""An anomaly detector for risk: a small torch autoencoder over fills (size, price against
the reference, fee) that flags the ones it reconstructs badly for a human to review."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

MIN_HISTORY = 30


@dataclass(frozen=True)
class AnomalyReport:
    flagged: list[int]
    """Row indices of the fills to review."""
    scores: list[float]
    threshold: float


def fill_features(
    quantity: npt.NDArray[np.float64], price: npt.NDArray[np.float64],
    reference: npt.NDArray[np.float64], fee: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:  # fmt: skip
    """Log size, price deviation from the reference in bps, fee rate in bps."""
    notional = quantity * price
    return np.column_stack(
        [np.log(quantity), (price / reference - 1.0) * 1e4, fee / np.maximum(notional, 1e-12) * 1e4]
    )


def detect(
    features: npt.NDArray[np.float64], *, sigmas: float = 4.0, seed: int = 0
) -> AnomalyReport:
    """`_detect`, remembered: the fit is seeded, so the same fills give the same report, and
    risk reviews that saw no new fill since the last one need not train again."""
    rows = np.ascontiguousarray(features, dtype=np.float64)
    return _remembered(rows.tobytes(), rows.shape, sigmas, seed)


@lru_cache(maxsize=32)
def _remembered(data: bytes, shape: tuple[int, ...], sigmas: float, seed: int) -> AnomalyReport:
    features = np.frombuffer(data, dtype=np.float64).reshape(shape)
    return _detect(features, sigmas=sigmas, seed=seed)


def _detect(
    features: npt.NDArray[np.float64], *, sigmas: float = 4.0, seed: int = 0
) -> AnomalyReport:
    """Fit on the bulk of the rows (robustly scaled, within 3 MADs on every feature), then
    flag any row whose reconstruction error is more than `sigmas` MADs above the bulk's
    median error: what the model never saw reconstructs badly."""
    import torch  # loads when risk scores fills, not when the desk starts

    if len(features) < MIN_HISTORY:
        return AnomalyReport([], [], float("nan"))
    median = np.median(features, axis=0)
    spread = np.median(np.abs(features - median), axis=0) * 1.4826
    # A feature more than half of whose values tie has no MAD: fall back to its std.
    spread = np.where(spread > 0, spread, features.std(axis=0))
    spread = np.where(spread > 0, spread, 1.0)
    z = (features - median) / spread
    bulk: npt.NDArray[np.bool_] = np.asarray((np.abs(z) <= 3.0).all(axis=1))
    if bulk.sum() < MIN_HISTORY // 2:
        bulk = np.ones(len(z), dtype=bool)
    threads = torch.get_num_threads()
    # With the other core busy, a net this small trained 3-7x slower on two threads than on
    # one (each tiny product waits for the second thread); idle, the same. Same scores.
    torch.set_num_threads(1)
    try:
        return _fit(z, bulk, features.shape[1], sigmas, seed)
    finally:
        torch.set_num_threads(threads)


def _fit(
    z: npt.NDArray[np.float64], bulk: npt.NDArray[np.bool_], width: int, sigmas: float, seed: int
) -> AnomalyReport:
    import torch
    from torch import nn

    x = torch.tensor(z, dtype=torch.float32)
    train = x[torch.from_numpy(bulk)]
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(width, 8), nn.Tanh(), nn.Linear(8, 2), nn.Tanh(),
                          nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, width))  # fmt: skip
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    for _ in range(300):
        optimiser.zero_grad()
        loss = loss_fn(model(train), train)
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        errors = ((model(x) - x) ** 2).mean(dim=1).numpy()
    centre = float(np.median(errors[bulk]))
    mad = float(np.median(np.abs(errors[bulk] - centre)) * 1.4826) or 1e-9
    threshold = centre + sigmas * mad
    flagged = [int(i) for i in np.flatnonzero(errors > threshold)]
    return AnomalyReport(flagged, [float(e) for e in errors], threshold)
