"""What a cluster task does, on the node that runs it: read the bars from the shared
snapshot (Parquet named by the bars' data version, refused when the content no longer hashes
to that name) and do one kind of work on one chunk of strategies:

- `sweep`: each strategy's backtest row (`tools.research.sweep.evaluate_chunk`);
- `walk_forward_scores`: each strategy's in-sample score on every walk-forward training
  window (`tools.research.walk_forward.score_matrix`), so the choice per window is made from
  the same numbers the local walk-forward uses;
- `train`: the ML signal trained and saved on the shared directory
  (`tools.research.training.train_and_save`), one task with no strategies.

Top-level functions only: submitit pickles a reference to `run_task`, not its code."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from core.faults import crash_point
from tools.research.bars import BarSeries, ResearchDataError

Work = Literal["sweep", "walk_forward_scores", "train"]


def snapshot(bars: BarSeries, shared_dir: Path) -> Path:
    """The bars on the shared directory as Parquet named by their data version; written
    once (to a temporary name, then renamed, so a reader never sees half a file)."""
    path = shared_dir / "snapshots" / f"{bars.data_version}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {"ts": bars.ts, "open": bars.open, "high": bars.high, "low": bars.low,
         "close": bars.close, "volume": bars.volume}
    )  # fmt: skip
    frame.attrs = {}
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    frame.to_parquet(partial, index=False)
    partial.replace(path)
    return path


def read_snapshot(path: Path, venue: str, symbol: str, interval: str) -> BarSeries:
    """The bars of a snapshot, refused unless their content hash is the file's name."""
    bars = BarSeries.from_frame(pd.read_parquet(path), venue, symbol, interval)
    if bars.data_version != path.stem:
        raise ResearchDataError(
            f"snapshot {path.name} holds bars of version {bars.data_version}: it was altered"
        )
    return bars


def run_task(
    work: Work,
    snapshot_path: str,
    series: tuple[str, str, str],
    strategies: list[dict[str, Any]],
    extra: tuple[Any, ...],
    attempt: int,
) -> Any:
    """One array task: `work` on its strategies with the snapshot's bars."""
    if attempt == 1:
        crash_point("sweep.first_try")  # a task lost on its first try, as to a dead node
    bars = read_snapshot(Path(snapshot_path), *series)
    if work == "sweep":
        from tools.research.sweep import evaluate_chunk

        costs, cash = extra
        return evaluate_chunk(bars, strategies, costs, cash)
    if work == "train":
        from tools.research.training import train_and_save

        config, folds, embargo, train_bars, test_bars, costs, cash, folder = extra
        return train_and_save(
            bars, config, folds, embargo, train_bars, test_bars, costs, cash, Path(folder)
        )
    from tools.research.sweep import STRATEGY
    from tools.research.walk_forward import score_matrix

    costs, cash, config = extra
    candidates = [STRATEGY.validate_python(spec) for spec in strategies]
    return score_matrix(bars, candidates, costs, config, cash)


def best_of(work: Work, result: Any) -> float:
    """A task's best figure, for its tracking record: the best Sharpe among its rows, or
    its best in-sample score."""
    import numpy as np

    if work == "sweep":
        return max((float(r["sharpe"]) for r in result), default=0.0)
    if work == "train":
        return float(result["oos"]["sharpe"])
    scores = np.asarray(result, dtype=float)
    return float(np.nanmax(scores)) if scores.size and np.isfinite(scores).any() else 0.0
