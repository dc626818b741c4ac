"""Sweeps on a SLURM cluster through submitit's SLURM executor.

The bars go to the shared directory once, as Parquet named by their data version
(`<shared>/snapshots/<data_version>.parquet`, checked against that hash when a task reads
it), and each task of one job array reads them there: a task's pickle carries its chunk of
strategies, not the data. Tasks are followed by their result files and by `squeue`, not by
`sacct` (a cluster without an accounting daemon answers nothing there): a task that raised, or
that left the queue without a result (killed, pre-empted, its node lost), is submitted again
up to `max_retries` times and each retry is reported; a stop cancels every job still queued or
running (`scancel`), so a cancelled sweep leaves nothing in `squeue`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tools.research.bars import BarSeries
from tools.research.cluster_tasks import Work, best_of, run_task, snapshot
from tools.research.fill_model import Costs

if TYPE_CHECKING:
    import submitit

    from core.settings import Settings
    from tools.research.strategies import Strategy
    from tools.research.walk_forward import WalkForwardConfig

_ROOT = Path(__file__).resolve().parents[2]


class SweepCancelledError(RuntimeError):
    """The sweep was stopped; its jobs were cancelled."""


class ClusterError(RuntimeError):
    """The cluster refused the work or a task failed past its retries; the message says why."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where and how tasks run: `conf` is the cluster's slurm.conf (None: the one the
    environment's SLURM_CONF or the system names)."""

    shared_dir: Path
    conf: Path | None = None
    partition: str | None = None
    account: str | None = None
    time_min: int = 60
    mem_mb: int = 1024
    cpus_per_task: int = 1
    points_per_task: int = 1000
    max_retries: int = 2
    array_parallelism: int = 256
    lost_after_s: float = 10.0
    """How long a task out of squeue may go without its result file before it counts as lost
    (the file is written before the task ends, but a shared filesystem may show it late)."""


@dataclass
class Retry:
    task: int
    attempt: int
    reason: str

    def __str__(self) -> str:
        return f"task {self.task}: {self.reason}; try {self.attempt}"


@dataclass(frozen=True)
class TaskRecord:
    """One finished task: which job ran it last, after how many tries, on how many points,
    the best Sharpe among them, and seconds from the sweep's start to its result."""

    task: int
    job_id: str
    attempts: int
    points: int
    best_sharpe: float
    done_after_s: float


@dataclass
class ClusterRun:
    """What a sweep on the cluster did: its job ids, the retries, each task's record, how
    long it waited."""

    folder: Path
    tasks: int = 0
    job_ids: list[str] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    finished: list[TaskRecord] = field(default_factory=list)
    submitted_s: float = 0.0
    total_s: float = 0.0


def local_conf(settings: Settings) -> Path:
    """Where `quantdesk services up slurm` writes the local cluster's slurm.conf
    (deploy/slurm, which tools do not import)."""
    return settings.data_dir / "slurm" / "slurm.conf"


def cluster_configured(settings: Settings) -> bool:
    """Whether the settings name a cluster: QUANTDESK_SLURM_CONF, or the local one's conf."""
    return settings.slurm_conf is not None or local_conf(settings).exists()


def cluster_config(settings: Settings) -> ClusterConfig:
    """The settings' cluster: QUANTDESK_SLURM_CONF, else the local one `quantdesk services up
    slurm` runs under data_dir (deploy/slurm), else whatever SLURM_CONF names."""
    local = local_conf(settings)
    conf = settings.slurm_conf or (local.resolve() if local.exists() else None)
    return ClusterConfig(
        shared_dir=(settings.slurm_shared_dir or settings.data_dir / "shared").resolve(),
        conf=conf, partition=settings.slurm_partition, account=settings.slurm_account,
        time_min=settings.slurm_time_min, mem_mb=settings.slurm_mem_mb,
        points_per_task=settings.slurm_points_per_task, max_retries=settings.slurm_max_retries,
    )  # fmt: skip


def _executor(config: ClusterConfig, folder: Path) -> submitit.SlurmExecutor:
    import submitit

    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=0)
    extra: dict[str, Any] = {}
    if config.account:
        extra["account"] = config.account
    executor.update_parameters(
        time=config.time_min,
        mem=f"{config.mem_mb}M",
        cpus_per_task=config.cpus_per_task,
        array_parallelism=config.array_parallelism,
        job_name="quantdesk-sweep",
        # Tasks import the desk's packages by name, from wherever the desk is installed.
        setup=[f"export PYTHONPATH={_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"],
        **({"partition": config.partition} if config.partition else {}),
        **({"additional_parameters": extra} if extra else {}),
    )
    return executor


def _slurm(command: list[str], config: ClusterConfig) -> subprocess.CompletedProcess[str]:
    env = os.environ | ({"SLURM_CONF": str(config.conf)} if config.conf else {})
    binary = shutil.which(command[0])
    if binary is None:
        raise ClusterError(f"{command[0]} is not installed: no SLURM client on this machine")
    return subprocess.run(  # noqa: S603 - the SLURM client's argv, no shell
        [binary, *command[1:]], capture_output=True, text=True, env=env, timeout=30, check=False
    )


def queued(job_ids: list[str], config: ClusterConfig) -> set[str]:
    """Which of `job_ids` (array tasks as `<job>_<task>`) squeue still lists."""
    if not job_ids:
        return set()
    mains = sorted({j.split("_")[0] for j in job_ids})
    done = _slurm(["squeue", "-h", "-r", "-o", "%i", "-j", ",".join(mains)], config)
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:
            return set()  # every one of them has left the queue
        raise ClusterError(f"squeue failed: {done.stderr.strip()[:400]}")
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def cancel(job_ids: list[str], config: ClusterConfig) -> None:
    mains = sorted({j.split("_")[0] for j in job_ids})
    if mains:
        _slurm(["scancel", *mains], config)


_RAISED = re.compile(r"^(?:\w+\.)*\w+(?:Error|Exception|Exit|Interrupt): .*$", re.MULTILINE)


def _raised(exc: Exception) -> str:
    """What a task raised, from submitit's FailedJobError: the last exception line of the
    task's traceback (the message ends with log paths, not the cause)."""
    found = _RAISED.findall(str(exc))
    return found[-1][:400] if found else f"{type(exc).__name__}: {str(exc)[:300]}"


def _first_lines(exc: Exception) -> str:
    text = " ".join(str(getattr(exc, "stderr", None) or exc).split())
    return text[:500]


def _with_conf(config: ClusterConfig) -> Callable[[], None]:
    """Point submitit's sbatch at the cluster's conf for the run; the undo."""
    if config.conf is None:
        return lambda: None
    before = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(config.conf)

    def undo() -> None:
        if before is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = before

    return undo


def run_array(
    work: Work,
    bars: BarSeries,
    specs: list[dict[str, Any]],
    extra: tuple[Any, ...],
    config: ClusterConfig,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_retry: Callable[[Retry], None] | None = None,
    stop: threading.Event | None = None,
    run: ClusterRun | None = None,
) -> list[Any]:
    """`work` on `specs` as one job array of `points_per_task` strategies a task; each task's
    result in the order of `specs`' chunks. Raises SweepCancelledError on `stop` (every job
    cancelled first), ClusterError when a task fails past its retries."""
    started = time.monotonic()
    path = snapshot(bars, config.shared_dir)
    series = (bars.venue, bars.symbol, bars.interval)
    size = config.points_per_task
    chunks = [specs[i : i + size] for i in range(0, len(specs), size)]
    folder = config.shared_dir / "submitit" / f"{work}-{uuid.uuid4().hex[:12]}"
    run = run or ClusterRun(folder)
    run.folder, run.tasks = folder, len(chunks)
    undo = _with_conf(config)
    try:
        executor = _executor(config, folder)
        n = len(chunks)
        try:
            jobs: list[submitit.Job[Any]] = executor.map_array(
                run_task, [work] * n, [str(path)] * n, [series] * n, chunks, [extra] * n,
                [1] * n,
            )  # fmt: skip
        except Exception as exc:  # sbatch's refusal (no controller, a bad partition...)
            raise ClusterError(f"sbatch refused the sweep: {_first_lines(exc)}") from exc
        run.submitted_s = time.monotonic() - started
        attempts = [1] * n
        live = dict(enumerate(jobs))
        run.job_ids = [j.job_id for j in jobs]
        results: dict[int, Any] = {}
        missing_since: dict[int, float] = {}
        next_squeue = 0.0
        progress = on_progress or (lambda done, total: None)
        try:
            while live:
                if stop is not None and stop.is_set():
                    raise SweepCancelledError(f"sweep stopped with {len(live)} task(s) left")
                now = time.monotonic()
                in_queue: set[str] | None = None
                if now >= next_squeue:
                    in_queue = queued([j.job_id for j in live.values()], config)
                    next_squeue = now + 1.0
                for task, job in list(live.items()):
                    reason = None
                    if job.paths.result_pickle.exists():
                        try:
                            results[task] = job.result()
                        except Exception as exc:  # the task raised: its traceback says why
                            reason = f"raised {_raised(exc)}"
                        else:
                            del live[task]
                            run.finished.append(
                                TaskRecord(task, job.job_id, attempts[task], len(chunks[task]),
                                           best_of(work, results[task]),
                                           time.monotonic() - started)
                            )  # fmt: skip
                            progress(len(results), n)
                            continue
                    elif in_queue is not None and job.job_id not in in_queue:
                        lost_at = missing_since.setdefault(task, now)
                        if now - lost_at >= config.lost_after_s:
                            reason = "left the queue without a result (killed or pre-empted)"
                    elif in_queue is not None:
                        missing_since.pop(task, None)
                    if reason is None:
                        continue
                    if attempts[task] > config.max_retries:
                        raise ClusterError(
                            f"task {task} failed {attempts[task]} times; last: {reason}"
                        )
                    attempts[task] += 1
                    retry = Retry(task, attempts[task], reason)
                    run.retries.append(retry)
                    if on_retry is not None:
                        on_retry(retry)
                    missing_since.pop(task, None)
                    live[task] = executor.submit(
                        run_task, work, str(path), series, chunks[task], extra, attempts[task]
                    )
                    run.job_ids.append(live[task].job_id)
                time.sleep(0.2)
        except BaseException:
            cancel([j.job_id for j in live.values()], config)
            raise
    finally:
        undo()
        run.total_s = time.monotonic() - started
    return [results[task] for task in range(n)]


def run_on_cluster(
    bars: BarSeries,
    specs: list[dict[str, Any]],
    costs: Costs,
    cash: float,
    config: ClusterConfig,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_retry: Callable[[Retry], None] | None = None,
    stop: threading.Event | None = None,
    run: ClusterRun | None = None,
) -> list[dict[str, Any]]:
    """A sweep's rows, in the order of `specs`, from one job array."""
    chunks = run_array(
        "sweep", bars, specs, (costs, cash), config, on_progress=on_progress,
        on_retry=on_retry, stop=stop, run=run,
    )  # fmt: skip
    return [row for rows in chunks for row in rows]


def train_on_cluster(
    bars: BarSeries, args: tuple[Any, ...], folder: Path, cluster: ClusterConfig
) -> dict[str, Any]:
    """The ML signal trained as one SLURM job (`tools.research.training.train_and_save` with
    `args` and `folder`, which must be on the shared directory); what it returns."""
    [trained] = run_array("train", bars, [{}], (*args, str(folder)), cluster)
    result: dict[str, Any] = trained
    return result


def scores_on_cluster(
    bars: BarSeries,
    candidates: list[Strategy],
    costs: Costs,
    config: WalkForwardConfig,
    cash: float,
    cluster: ClusterConfig,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    run: ClusterRun | None = None,
) -> npt.NDArray[np.float64]:
    """A walk-forward's in-sample scores (folds x candidates), candidates split across one
    job array; `walk_forward(..., scores=...)` then chooses exactly as it would locally."""
    specs = [c.model_dump() for c in candidates]
    parts = run_array(
        "walk_forward_scores", bars, specs, (costs, cash, config), cluster,
        on_progress=on_progress, run=run,
    )  # fmt: skip
    return np.concatenate([np.asarray(p, dtype=float) for p in parts], axis=1)
