"""A 10,000-point sweep on a real one-node SLURM cluster (Debian's slurm-wlm 22.05, started
here by the desk's launcher) against the local executor, in the same run.

1. local: `run_sweep(backend="processes")` on this machine's cores (the peer).
2. slurm: the same grid as one job array (`--executor slurm`), 50 points a task; the rows
   are checked equal to the local ones.
3. per-job overhead: an array of tasks of one point each, so the work is nothing and the
   time is SLURM's (submit, schedule, start Python, write the result) and the desk's polling.

Then a projection to N nodes of C cores with the model
    T(N) = submit + ceil(tasks / (N * C)) * (overhead + points_per_task * t_point)
with `submit`, `overhead` and `t_point` measured here (one node; nothing is measured on more).
Needs root and the packages `make test` installs.
Run: uv run python -m benchmarks.slurm_sweep [--points 10000]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from deploy.kafka.launcher import free_port_pair
from deploy.slurm import launcher
from tools.ingest.real_datasets import DATASETS
from tools.research.bars import BarSeries
from tools.research.cluster import ClusterConfig, ClusterRun, run_on_cluster
from tools.research.fill_model import Costs
from tools.research.sweep import ParamGrid, run_sweep

COSTS = Costs(commission=0.001, lot=1)


def grid(points: int) -> ParamGrid:
    side = math.isqrt(points)
    return ParamGrid(
        kind="sma_cross",
        params={"fast": list(range(2, 2 + side)), "slow": list(range(200, 200 + side))},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--per-task", type=int, default=50)
    parser.add_argument("--overhead-tasks", type=int, default=100)
    args = parser.parse_args()
    goog = DATASETS["goog"].read()
    bars = BarSeries.from_frame(goog, "nasdaq", "GOOG", "1d")
    strategies, _ = grid(args.points).expand()
    cores = os.cpu_count() or 1
    print(f"{len(strategies)} strategies on {len(bars)} GOOG daily bars; {cores} cores")

    started = time.perf_counter()
    local = run_sweep(bars, strategies, COSTS, 10_000, backend="processes", workers=cores)
    local_s = time.perf_counter() - started
    print(f"local executor ({cores} processes): {local_s:.2f} s")

    with tempfile.TemporaryDirectory(prefix="qd-slurm-bench-") as tmp:
        home = Path(tmp) / "slurm"
        port = free_port_pair()
        conf = launcher.start(home, port=port)
        try:
            config = ClusterConfig(
                shared_dir=Path(tmp) / "shared", conf=conf, points_per_task=args.per_task
            )
            run = ClusterRun(config.shared_dir)
            started = time.perf_counter()
            rows = run_on_cluster(
                bars, [s.model_dump() for s in strategies], COSTS, 10_000, config, run=run
            )
            slurm_s = time.perf_counter() - started
            keyed = pd.DataFrame(rows).assign(k=lambda f: f["params"].map(str)).set_index("k")
            same = local.assign(k=local["params"].map(str)).set_index("k")
            equal = bool((keyed["sharpe"].sort_index() == same["sharpe"].sort_index()).all())
            print(
                f"slurm job array ({run.tasks} tasks of {args.per_task}): {slurm_s:.2f} s "
                f"(submit {run.submitted_s:.2f} s); rows equal to local: {equal}; "
                f"slurm / local = {slurm_s / local_s:.2f}x"
            )
            tiny = ClusterConfig(shared_dir=config.shared_dir, conf=conf, points_per_task=1)
            specs = [s.model_dump() for s in strategies[: args.overhead_tasks]]
            empty = ClusterRun(tiny.shared_dir)
            started = time.perf_counter()
            run_on_cluster(bars, specs, COSTS, 10_000, tiny, run=empty)
            tiny_s = time.perf_counter() - started
        finally:
            launcher.stop(home)
    t_point = local_s * cores / len(strategies)
    overhead = max(0.0, (tiny_s - empty.submitted_s) * cores / args.overhead_tasks - t_point)
    print(
        f"per-job overhead: {args.overhead_tasks} one-point tasks in {tiny_s:.2f} s "
        f"(submit {empty.submitted_s:.2f} s) -> {overhead * 1000:.0f} ms a task a core "
        f"beyond its work; one point costs {t_point * 1000:.2f} ms a core"
    )
    tasks = -(-len(strategies) // args.per_task)
    print("projection, T(N) = submit + ceil(tasks / (N*C)) * (overhead + per_task * t_point):")
    for nodes in (1, 2, 4, 8, 16, 32):
        waves = -(-tasks // (nodes * cores))
        total = run.submitted_s + waves * (overhead + args.per_task * t_point)
        print(f"  {nodes:>2} node(s) x {cores} cores: {total:7.2f} s")


if __name__ == "__main__":
    main()
