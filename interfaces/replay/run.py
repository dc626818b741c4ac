"""A replay from the command line's request to its report: the replay itself, its LLM
usage from the replay's cache, the report against the baselines, the MLflow run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from core.models.approval import ApprovalCard
from core.settings import Settings
from interfaces.replay.loop import DayListener, Replayed, run_replay
from interfaces.replay.setup import ReplayConfig, llm_cache_of
from tools.replay.models import LlmUsage


class ReplayRequest(ReplayConfig):
    mlflow: bool = True


class ReplayOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    folder: Path
    report: Path
    summary_line: str
    mlflow_run: str | None
    wall_s: float


def replay_folder(settings: Settings, config: ReplayConfig) -> Path:
    return settings.data_dir / "replays" / config.key()


def cache_usage(path: Path) -> tuple[Callable[[], None], Callable[[], LlmUsage]]:
    """(start, read) over the replay's LLM cache: the calls the replay made, how many the
    cache answered, and the tokens and cost of all of them (a cached answer's decision cost
    what it cost when the model gave it)."""
    from core.llm.cache import shared_cache

    def start() -> None:
        shared_cache(path).reset_stats()

    def read() -> LlmUsage:
        s = shared_cache(path).stats()
        return LlmUsage(
            calls=s.misses,
            cached=s.hits,
            prompt_tokens=s.miss_prompt_tokens + s.hit_prompt_tokens,
            completion_tokens=s.miss_completion_tokens + s.hit_completion_tokens,
            cost_usd=s.miss_cost_usd + s.hit_cost_usd,
        )

    return start, read


def replay_and_report(
    settings: Settings,
    request: ReplayRequest,
    *,
    on_day: DayListener | None = None,
    ask: Callable[[ApprovalCard], bool] | None = None,
) -> ReplayOutcome:
    from tools.replay.report import write_report

    config = ReplayConfig.model_validate(request.model_dump(exclude={"mlflow"}))
    folder = replay_folder(settings, config)
    replayed = _replay(settings, config, folder, on_day, ask)
    report_dir = folder / "report"
    (folder / "run.json").write_text(replayed.run.model_dump_json(indent=1))
    summary = write_report(replayed.run, replayed.bars, report_dir)
    mlflow_run = None
    if request.mlflow:
        from tools.replay.tracking import log_replay

        mlflow_run = log_replay(settings, replayed.run, summary, report_dir)
    return ReplayOutcome(
        folder=folder,
        report=report_dir / "report.html",
        summary_line=summary.verdict,
        mlflow_run=mlflow_run,
        wall_s=replayed.run.wall_s,
    )


def _replay(
    settings: Settings,
    config: ReplayConfig,
    folder: Path,
    on_day: DayListener | None,
    ask: Callable[[ApprovalCard], bool] | None,
) -> Replayed:
    if config.router != "llm":
        return run_replay(settings, config, folder, on_day=on_day, ask=ask)
    start, read = cache_usage(llm_cache_of(folder, config))
    start()
    return run_replay(settings, config, folder, on_day=on_day, ask=ask, usage=read)
