"""Experiment tracking in MLflow: every backtest and sweep with its parameters, metrics,
data version and code version. Local SQLite store by default; any tracking URI by setting."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.settings import Settings
from tools.research.bars import BarSeries
from tools.research.results import BacktestResult

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from tools.research.cluster import ClusterRun

ROOT = Path(__file__).resolve().parents[2]


def code_version() -> str:
    """The git commit, with `+dirty` when the tree has uncommitted changes."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        # Fixed argv, no user input: S603 does not apply.
        commit = subprocess.run(  # noqa: S603
            [git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = json.dumps(value) if not isinstance(value, str) else value


class Tracker:
    """Logs runs to one MLflow experiment; artifacts stay under the desk's data dir."""

    def __init__(self, settings: Settings, experiment: str = "research") -> None:
        self.uri = settings.resolved_tracking_uri
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # mlflow takes seconds to import: it loads when a run is tracked, not at desk start.
        from mlflow.tracking import MlflowClient

        self.client: MlflowClient = MlflowClient(tracking_uri=self.uri)
        found = self.client.get_experiment_by_name(experiment)
        if found is None:
            artifacts = (settings.data_dir / "mlartifacts").resolve().as_uri()
            self.experiment_id = self.client.create_experiment(
                experiment, artifact_location=artifacts
            )
        else:
            self.experiment_id = found.experiment_id

    def _start(self, name: str, tags: dict[str, str]) -> str:
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        return str(run.info.run_id)

    def log_backtest(
        self, result: BacktestResult, bars: BarSeries, *, report: Path | None = None
    ) -> str:
        tags = {
            "kind": "backtest", "engine": result.engine, "data_version": bars.data_version,
            "code_version": code_version(), "instrument": bars.instrument_id,
            "interval": bars.interval,
        }  # fmt: skip
        run_id = self._start(f"{result.params.get('kind', 'strategy')}-{result.engine}", tags)
        params: dict[str, str] = {}
        _flatten("", result.params, params)
        params["data.start"] = str(bars.ts[0])
        params["data.end"] = str(bars.ts[-1])
        for key, value in params.items():
            self.client.log_param(run_id, key, value[:500])
        for key, value in result.metrics.model_dump().items():
            self.client.log_metric(run_id, key, float(value))
        if result.gate is not None:
            self.client.log_metric(run_id, "gate_denied", result.gate.denied)
            self.client.set_tag(run_id, "gate_denial_reasons", ",".join(result.gate.denial_reasons))
        if report is not None:
            self.client.log_artifacts(run_id, str(report))
        self.client.set_terminated(run_id)
        return run_id

    def log_sweep(
        self,
        frame: pd.DataFrame,
        bars: BarSeries,
        kind: str,
        tmp_dir: Path,
        cluster: ClusterRun | None = None,
    ) -> str:
        """The sweep as a parent run; on a cluster, each task as its child run (its job,
        tries, points and best Sharpe) and the retries as a tag."""
        tags = {
            "kind": "sweep", "strategy": kind, "data_version": bars.data_version,
            "code_version": code_version(), "instrument": bars.instrument_id,
            "executor": "slurm" if cluster is not None else "local",
        }  # fmt: skip
        run_id = self._start(f"sweep-{kind}", tags)
        if cluster is not None:
            self._log_tasks(run_id, cluster, tags)
        self.client.log_param(run_id, "trials", str(len(frame)))
        best = frame.iloc[0]
        best_params: dict[str, str] = {}
        _flatten("best", best["params"], best_params)
        for key, value in best_params.items():
            self.client.log_param(run_id, key, value[:500])
        for key in ("sharpe", "total_return", "max_drawdown", "deflated_sharpe"):
            self.client.log_metric(run_id, f"best_{key}", float(best[key]))
        tmp_dir.mkdir(parents=True, exist_ok=True)
        table = tmp_dir / "sweep.csv"
        frame.assign(params=frame["params"].map(json.dumps)).to_csv(table, index=False)
        self.client.log_artifact(run_id, str(table))
        self.client.set_terminated(run_id)
        return run_id

    def _log_tasks(self, parent: str, cluster: ClusterRun, tags: dict[str, str]) -> None:
        self.client.log_param(parent, "tasks", str(cluster.tasks))
        self.client.log_metric(parent, "retries", len(cluster.retries))
        self.client.log_metric(parent, "cluster_seconds", cluster.total_s)
        if cluster.retries:
            self.client.set_tag(parent, "retries", "; ".join(map(str, cluster.retries))[:5000])
        for record in sorted(cluster.finished, key=lambda r: r.task):
            child = self._start(
                f"task-{record.task}",
                tags | {"mlflow.parentRunId": parent, "kind": "sweep-task",
                        "slurm_job_id": record.job_id},
            )  # fmt: skip
            self.client.log_param(child, "task", str(record.task))
            self.client.log_param(child, "points", str(record.points))
            self.client.log_metric(child, "attempts", record.attempts)
            self.client.log_metric(child, "best_sharpe", record.best_sharpe)
            self.client.log_metric(child, "done_after_s", record.done_after_s)
            self.client.set_terminated(child)


def runs(settings: Settings, experiment: str = "research") -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(settings.resolved_tracking_uri)
    frame: pd.DataFrame = mlflow.search_runs(experiment_names=[experiment])
    return frame
