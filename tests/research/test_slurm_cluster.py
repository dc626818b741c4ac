"""Sweeps on a real SLURM cluster: Debian's slurmctld and slurmd 22.05 with munge, started
for this module on loopback ports under a temporary home (deploy/slurm/launcher.py), jobs
submitted by submitit's SLURM executor (tools/research/cluster.py). A 200-point sweep as a
job array gives the local executor's rows; a task lost on its first try is retried and
reported; a task whose data snapshot was altered fails with the reason after its retries; a
stopped sweep leaves nothing in squeue; the CLI runs a sweep there with its progress bar.

Needs root (slurmd starts jobs as their users) and the packages `make test` installs."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from deploy.kafka.launcher import free_port_pair
from deploy.slurm import launcher
from interfaces.cli.app import app
from interfaces.cli.settings import get_settings
from tests.waiting import wait_until
from tools.research.bars import BarSeries
from tools.research.cluster import (
    ClusterConfig,
    ClusterError,
    ClusterRun,
    Retry,
    SweepCancelledError,
    queued,
    run_on_cluster,
    snapshot,
)
from tools.research.fill_model import Costs
from tools.research.sweep import ParamGrid, run_sweep

COSTS = Costs(commission=0.001, lot=1)
GRID = ParamGrid(kind="sma_cross", params={"fast": list(range(2, 22)), "slow": list(range(25, 35))})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running one-node cluster; its slurm.conf."""
    if os.geteuid() != 0:
        pytest.skip("a local SLURM cluster runs slurmd as root")
    try:
        launcher._binary("slurmd")
    except launcher.SlurmLaunchError as exc:
        pytest.skip(str(exc))
    home = tmp_path_factory.mktemp("slurm")
    conf = launcher.start(home, port=free_port_pair())
    try:
        yield conf
    finally:
        launcher.stop(home)
        assert not launcher.status(home).running
        assert launcher.leftover_steps(home) == []  # no job step outlives the cluster


@pytest.fixture
def config(cluster: Path, tmp_path: Path) -> ClusterConfig:
    return ClusterConfig(
        shared_dir=tmp_path / "shared", conf=cluster, points_per_task=50, lost_after_s=2.0
    )


@pytest.fixture(scope="module")
def goog(goog_raw: pd.DataFrame) -> BarSeries:
    return BarSeries.from_frame(goog_raw, "nasdaq", "GOOG", "1d")


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by their parameters (ties in Sharpe may sort either way)."""
    return frame.assign(key=frame["params"].map(str)).set_index("key").sort_index()


def squeue_is_empty(conf: Path) -> bool:
    listed = subprocess.run(
        ["squeue", "-h"], capture_output=True, text=True, env=launcher.client_env(conf),
        check=True,
    )  # fmt: skip
    return listed.stdout.strip() == ""


def test_a_200_point_sweep_as_a_job_array_gives_the_local_rows(
    goog: BarSeries, config: ClusterConfig
):
    strategies, refused = GRID.expand()
    assert (len(strategies), refused) == (200, 0)
    progress: list[tuple[int, int]] = []
    on_slurm = run_sweep(
        goog, strategies, COSTS, 10_000, backend="slurm", cluster=config,
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    local = run_sweep(goog, strategies, COSTS, 10_000, backend="processes", workers=2)
    pd.testing.assert_frame_equal(keyed(on_slurm), keyed(local))
    assert on_slurm.loc[0, "deflated_sharpe"] == local.loc[0, "deflated_sharpe"]
    assert progress[-1] == (4, 4)  # 50 points a task
    assert [p[0] for p in progress] == [1, 2, 3, 4]
    # The tasks read the bars from the snapshot named by their version, not from pickles.
    assert (config.shared_dir / "snapshots" / f"{goog.data_version}.parquet").exists()
    conf = config.conf
    assert conf is not None
    wait_until(lambda: squeue_is_empty(conf), 15, what="squeue empty after the sweep")


def test_a_task_lost_on_its_first_try_is_retried_and_reported(
    goog: BarSeries, config: ClusterConfig, monkeypatch: pytest.MonkeyPatch
):
    strategies, _ = GRID.expand()
    specs = [s.model_dump() for s in strategies[:40]]
    expected = run_sweep(goog, strategies[:40], COSTS, 10_000, backend="serial")
    # Each task's first try dies as on a lost node (SIGKILL, no result written).
    monkeypatch.setenv("QUANTDESK_CRASH_AT", "sweep.first_try")
    retries: list[Retry] = []
    run = ClusterRun(config.shared_dir)
    small = dataclasses.replace(config, points_per_task=20)
    rows = run_on_cluster(goog, specs, COSTS, 10_000, small, on_retry=retries.append, run=run)
    # Both tasks die at once; which loss the poll sees first is the scheduler's business.
    assert sorted((r.task, r.attempt) for r in retries) == [(0, 2), (1, 2)]
    assert all("left the queue without a result" in r.reason for r in retries)
    assert run.retries == retries
    assert len(run.job_ids) == 4  # two array tasks, two single retries
    got = pd.DataFrame(rows)
    pd.testing.assert_frame_equal(
        keyed(got).drop(columns=["params"]),
        keyed(expected).drop(columns=["params", "deflated_sharpe"]),
    )


def test_an_altered_snapshot_fails_its_tasks_with_the_reason(
    goog: BarSeries, config: ClusterConfig
):
    path = snapshot(goog, config.shared_dir)
    frame = pd.read_parquet(path)
    frame.loc[10, "close"] *= 1.5  # the file no longer holds the bars its name says
    frame.to_parquet(path, index=False)
    strategies, _ = GRID.expand()
    retries: list[Retry] = []
    once = dataclasses.replace(config, max_retries=1)
    with pytest.raises(ClusterError, match="it was altered") as failed:
        run_on_cluster(
            goog, [s.model_dump() for s in strategies[:10]], COSTS, 10_000, once,
            on_retry=retries.append,
        )  # fmt: skip
    assert "failed 2 times" in str(failed.value)
    assert [r.attempt for r in retries] == [2]
    assert "ResearchDataError" in retries[0].reason
    path.unlink()  # the next sweep writes it afresh
    conf = config.conf
    assert conf is not None
    wait_until(lambda: squeue_is_empty(conf), 15, what="squeue empty after the failure")


def test_a_stopped_sweep_leaves_no_jobs_in_squeue(goog: BarSeries, config: ClusterConfig):
    strategies, _ = GRID.expand()
    one_at_a_time = dataclasses.replace(config, points_per_task=5, array_parallelism=1)
    stop = threading.Event()
    run = ClusterRun(config.shared_dir)

    def stop_after_the_first(done: int, total: int) -> None:
        stop.set()

    with pytest.raises(SweepCancelledError, match="task"):
        run_on_cluster(
            goog, [s.model_dump() for s in strategies], COSTS, 10_000, one_at_a_time,
            on_progress=stop_after_the_first, stop=stop, run=run,
        )  # fmt: skip
    assert run.tasks == 40
    conf = config.conf
    assert conf is not None
    wait_until(
        lambda: squeue_is_empty(conf), 15, what="squeue empty after the cancel",
        show=lambda: queued(run.job_ids, config),
    )  # fmt: skip


def test_the_cli_sweeps_on_the_cluster(
    desk_env: Path, cluster: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUANTDESK_SLURM_CONF", str(cluster))
    monkeypatch.setenv("QUANTDESK_SLURM_POINTS_PER_TASK", "2")
    runner = CliRunner()
    assert runner.invoke(app, ["data", "load", "goog"]).exit_code == 0
    swept = runner.invoke(
        app, ["research", "sweep", "--venue", "nasdaq", "--symbol", "GOOG", "sma_cross",
              "--grid", "fast=5,10,15", "--grid", "slow=20,40", "--executor", "slurm",
              "--lot", "1"],
    )  # fmt: skip
    assert swept.exit_code == 0, swept.output
    assert "6 tried" in swept.output
    assert "deflated Sharpe" in swept.output
    assert list((desk_env / "shared" / "snapshots").glob("*.parquet"))
    # The sweep is a parent run in MLflow, each of its three tasks a child run.
    from mlflow.tracking import MlflowClient

    parent = swept.output.split("mlflow run:")[1].split()[0]
    client = MlflowClient(get_settings().resolved_tracking_uri)
    assert client.get_run(parent).data.tags["executor"] == "slurm"
    assert client.get_run(parent).data.params["tasks"] == "3"
    children = client.search_runs(
        [client.get_run(parent).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent}'",
    )
    assert sorted(c.data.params["task"] for c in children) == ["0", "1", "2"]
    assert all(c.data.metrics["attempts"] == 1 for c in children)
    assert max(c.data.metrics["best_sharpe"] for c in children) == pytest.approx(
        client.get_run(parent).data.metrics["best_sharpe"]
    )
    refused = runner.invoke(
        app, ["research", "sweep", "--venue", "nasdaq", "--symbol", "GOOG", "sma_cross",
              "--grid", "fast=5", "--grid", "slow=20,40", "--executor", "mars"],
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "--executor is local or slurm" in refused.output


def test_the_research_tool_sends_only_large_sweeps_to_the_cluster(
    cluster: Path, tmp_path: Path, goog_raw: pd.DataFrame
):
    from core.settings import Settings
    from core.store import MarketDataStore, Store
    from tools.research.agent_tools import ResearchTools, SweepRequest

    settings = Settings(
        data_dir=tmp_path / "desk", slurm_conf=cluster, research_cluster_points=6,
        slurm_points_per_task=3,
    )  # fmt: skip
    with Store(f"chdb://{tmp_path / 'store'}") as store:
        store.migrate()
        MarketDataStore(store).write_bars(goog_raw)
        tools = ResearchTools(store, settings)

        def sweep(fast: list[int]) -> tuple[str, str | None]:
            done = tools.sweep(
                SweepRequest(venue="nasdaq", symbol="GOOG", costs=COSTS,
                             grid=ParamGrid(kind="sma_cross", params={"fast": fast,
                                                                      "slow": [30, 60]}))
            )  # fmt: skip
            run = tools.tracker.client.get_run(done.run_id)
            return done.executor, run.data.params.get("tasks")

        assert sweep([5, 10]) == ("processes", None)  # 4 points: under the settings' 6
        assert sweep([5, 10, 20]) == ("slurm", "2")  # 6 points, 3 a task
    assert (settings.data_dir / "shared" / "snapshots").is_dir()


def test_a_walk_forward_scored_on_the_cluster_chooses_as_the_local_one(
    goog: BarSeries, config: ClusterConfig
):
    from tools.research.cluster import scores_on_cluster
    from tools.research.walk_forward import WalkForwardConfig, score_matrix, walk_forward

    candidates, _ = ParamGrid(
        kind="sma_cross", params={"fast": [5, 10, 20, 30], "slow": [40, 60, 100]}
    ).expand()
    windows = WalkForwardConfig(train_bars=500, test_bars=250)
    spread = dataclasses.replace(config, points_per_task=5)  # 12 candidates: 3 tasks
    run = ClusterRun(config.shared_dir)
    scores = scores_on_cluster(goog, candidates, COSTS, windows, 10_000, spread, run=run)
    assert run.tasks == 3
    np.testing.assert_array_equal(scores, score_matrix(goog, candidates, COSTS, windows, 10_000))
    remote = walk_forward(goog, candidates, COSTS, windows, 10_000, scores)
    local = walk_forward(goog, candidates, COSTS, windows, 10_000)
    pd.testing.assert_frame_equal(remote.folds, local.folds)
    assert remote.out_of_sample == local.out_of_sample
    with pytest.raises(ValueError, match="scores of shape"):
        walk_forward(goog, candidates, COSTS, windows, 10_000, scores[:, :5])


def test_the_ml_signal_trains_as_one_job_and_is_registered(
    cluster: Path, tmp_path: Path, goog_raw: pd.DataFrame
):
    from core.settings import Settings
    from core.store import MarketDataStore, Store
    from tools.research import ml_model
    from tools.research.agent_tools import ResearchTools, TrainModelRequest
    from tools.research.model_registry import ModelRegistry

    settings = Settings(data_dir=tmp_path / "desk", slurm_conf=cluster)
    config = ml_model.MlpConfig(epochs=2, hidden=8, seed=3)
    with Store(f"chdb://{tmp_path / 'store'}") as store:
        store.migrate()
        MarketDataStore(store).write_bars(goog_raw)
        tools = ResearchTools(store, settings)

        def train(executor: str, name: str) -> Any:
            return tools.train_model(
                TrainModelRequest(venue="nasdaq", symbol="GOOG", costs=COSTS, train_bars=1_000,
                                  test_bars=500, folds=2, config=config, name=name,
                                  executor=executor)  # type: ignore[arg-type]
            )  # fmt: skip

        remote = train("slurm", "mlp-cluster")
        local = train("local", "mlp-here")
    assert remote.executor == "slurm"
    assert Path(remote.model_dir).is_relative_to(settings.data_dir / "shared")
    assert remote.registered == "models:/mlp-cluster/1"
    # The same seed on the same bars: the node's model is the one this machine trains.
    assert [f["accuracy"] for f in remote.cv] == pytest.approx([f["accuracy"] for f in local.cv])
    bars = BarSeries.from_frame(goog_raw, "nasdaq", "GOOG", "1d")
    registry = ModelRegistry(settings)
    predicted = [
        ml_model.load(registry.resolve(f"models:/{n}@candidate")).predict(ml_model.features(bars))
        for n in ("mlp-cluster", "mlp-here")
    ]
    np.testing.assert_allclose(predicted[0], predicted[1], atol=1e-4)
