"""Parameter sweeps: a grid of strategies evaluated in parallel processes by default, through
submitit's local executor (`submitit`), or as a job array on a SLURM cluster (`slurm`,
tools/research/cluster.py). Every backend gives the same rows."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tools.research.backtesters import run_vectorised
from tools.research.bars import BarSeries
from tools.research.fill_model import Costs
from tools.research.metrics import deflated_sharpe
from tools.research.strategies import Strategy

if TYPE_CHECKING:
    from tools.research.cluster import ClusterConfig, ClusterRun, Retry

STRATEGY = TypeAdapter(Strategy)
Backend = Literal["serial", "processes", "submitit", "slurm"]


class ParamGrid(BaseModel):
    """Every combination of `params` for one strategy kind; combinations the strategy
    refuses (e.g. fast >= slow) are skipped and counted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    params: dict[str, list[Any]] = Field(min_length=1)
    fixed: dict[str, Any] = Field(default_factory=dict)

    def expand(self) -> tuple[list[Strategy], int]:
        names = list(self.params)
        if any(not values for values in self.params.values()):
            raise ValueError("every swept parameter needs at least one value")
        strategies: list[Strategy] = []
        skipped = 0
        for combo in itertools.product(*(self.params[n] for n in names)):
            try:
                spec = {"kind": self.kind, **self.fixed, **dict(zip(names, combo, strict=True))}
                strategies.append(STRATEGY.validate_python(spec))
            except ValidationError:
                skipped += 1
        if not strategies:
            raise ValueError(f"no valid {self.kind} strategy in that grid ({skipped} refused)")
        return strategies, skipped


def evaluate_chunk(
    bars: BarSeries, strategies: list[dict[str, Any]], costs: Costs, cash: float
) -> list[dict[str, Any]]:
    """Run one chunk of a sweep (top level so worker processes can import it)."""
    rows = []
    for spec in strategies:
        strategy = STRATEGY.validate_python(spec)
        result = run_vectorised(bars, strategy, costs, cash)
        returns = np.diff(result.equity.to_numpy()) / result.equity.to_numpy()[:-1]
        rows.append(
            {
                "params": spec,
                **result.metrics.model_dump(),
                "per_bar_sharpe": float(returns.mean() / returns.std(ddof=1))
                if returns.std(ddof=1) > 0
                else 0.0,
            }
        )
    return rows


def _chunks(items: list[dict[str, Any]], n: int) -> list[list[dict[str, Any]]]:
    size = max(1, -(-len(items) // n))
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_sweep(
    bars: BarSeries,
    strategies: list[Strategy],
    costs: Costs,
    cash: float = 100_000.0,
    *,
    backend: Backend = "processes",
    workers: int | None = None,
    submitit_folder: Path | None = None,
    submitit_cluster: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    cluster: ClusterConfig | None = None,
    on_retry: Callable[[Retry], None] | None = None,
    stop: threading.Event | None = None,
    cluster_run: ClusterRun | None = None,
) -> pd.DataFrame:
    """One row per strategy, best Sharpe first, with the deflated Sharpe of the best row
    given how many were tried (column `deflated_sharpe`, on the first row)."""
    specs = [s.model_dump() for s in strategies]
    workers = workers or os.cpu_count() or 1
    progress = on_progress or (lambda done, total: None)
    if backend == "serial" or len(specs) == 1:
        rows = []
        serial_chunks = _chunks(specs, 20)
        for k, chunk in enumerate(serial_chunks, start=1):
            rows += evaluate_chunk(bars, chunk, costs, cash)
            progress(k, len(serial_chunks))
    elif backend == "slurm":
        from tools.research.cluster import run_on_cluster

        if cluster is None:
            raise ValueError("a sweep on SLURM needs a cluster config (tools.research.cluster)")
        rows = run_on_cluster(
            bars, specs, costs, cash, cluster, on_progress=progress, on_retry=on_retry,
            stop=stop, run=cluster_run,
        )  # fmt: skip
    elif backend == "processes":
        from concurrent.futures import ProcessPoolExecutor, as_completed  # multiprocessing: here

        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunks = _chunks(specs, workers * 4)
            futures = [pool.submit(evaluate_chunk, bars, chunk, costs, cash) for chunk in chunks]
            rows = []
            for done, future in enumerate(as_completed(futures), start=1):
                rows += future.result()
                progress(done, len(futures))
    else:
        import submitit

        folder = submitit_folder or Path(".quantdesk/submitit")
        executor = submitit.AutoExecutor(folder=folder, cluster=submitit_cluster)
        executor.update_parameters(timeout_min=60)
        chunks = _chunks(specs, workers)
        jobs = executor.map_array(
            evaluate_chunk,
            [bars] * len(chunks),
            chunks,
            [costs] * len(chunks),
            [cash] * len(chunks),
        )
        rows = []
        for done, job in enumerate(jobs, start=1):
            rows += job.result()
            progress(done, len(jobs))
    frame = pd.DataFrame(rows).sort_values("sharpe", ascending=False, ignore_index=True)
    frame["deflated_sharpe"] = np.nan
    if len(frame):
        best = STRATEGY.validate_python(frame.loc[0, "params"])
        equity = run_vectorised(bars, best, costs, cash).equity.to_numpy()
        returns = np.diff(equity) / equity[:-1]
        frame.loc[0, "deflated_sharpe"] = deflated_sharpe(
            returns, frame["per_bar_sharpe"].to_numpy()
        )
    return frame
