"""A replay as one MLflow run in the "replay" experiment: what it ran (dates, universe, router,
approval policy, cash, costs), how the desk and each baseline did, what the LLM cost, and
the report as an artifact. MLflow loads inside `log_replay` (seconds to import), never when
the CLI starts."""

from __future__ import annotations

import time
from pathlib import Path

from core.settings import Settings
from tools.replay.models import ReplayRun
from tools.replay.report import ReplaySummary

EXPERIMENT = "replay"


def replay_params(run: ReplayRun, summary: ReplaySummary) -> dict[str, str]:
    params = {
        "start": run.start.isoformat(),
        "end": run.end.isoformat(),
        "days": str(summary.days),
        "universe": ",".join(run.universe),
        "router": run.router,
        "approvals": run.approvals,
        "cash": str(run.cash),
        "seed": str(summary.seed),
    }
    params.update({f"costs.{k}": str(v) for k, v in run.costs.model_dump().items()})
    params.update({f"report.{k}": str(v) for k, v in summary.config.model_dump().items()})
    # MLflow caps a parameter's value; a long universe is cut, not refused.
    return {k: v[:500] for k, v in params.items()}


def replay_metrics(run: ReplayRun, summary: ReplaySummary) -> dict[str, float]:
    out: dict[str, float] = {}
    for series in summary.series:
        for name, interval in series.metrics:
            out[f"{series.name}.{name}"] = interval.value
            out[f"{series.name}.{name}_low"] = interval.low
            out[f"{series.name}.{name}_high"] = interval.high
        out[f"{series.name}.final_equity"] = series.final_equity
    excess = summary.excess_vs_buy_and_hold
    out.update({
        "excess_vs_buy_and_hold": excess.value,
        "excess_vs_buy_and_hold_low": excess.low,
        "excess_vs_buy_and_hold_high": excess.high,
        "beat_buy_and_hold": float(summary.beat_buy_and_hold),
        "random.q05": summary.random.q05,
        "random.median": summary.random.median,
        "random.q95": summary.random.q95,
        "random.desk_beat": summary.random.desk_beat,
        "llm.calls": float(run.llm.calls),
        "llm.cached": float(run.llm.cached),
        "llm.prompt_tokens": float(run.llm.prompt_tokens),
        "llm.completion_tokens": float(run.llm.completion_tokens),
        "llm.cost_usd": run.llm.cost_usd,
        "decisions": float(summary.decisions),
        "fills": float(summary.fills),
        "probed_reads": float(run.probed_reads),
        "wall_s": run.wall_s,
    })  # fmt: skip
    return out


def log_replay(settings: Settings, run: ReplayRun, summary: ReplaySummary, report_dir: Path) -> str:
    """Log the replay as a finished MLflow run and return its id; everything in
    `report_dir` (report.html, summary.json) goes up as artifacts."""
    from mlflow.entities import Metric, Param

    from tools.research.tracking import Tracker, code_version

    tracker = Tracker(settings, experiment=EXPERIMENT)
    tags = {
        "kind": "replay", "router": run.router, "approvals": run.approvals,
        "code_version": code_version(), "verdict": summary.verdict[:5_000],
    }  # fmt: skip
    name = f"replay-{run.router}-{run.start}-{run.end}"
    run_id = str(
        tracker.client.create_run(tracker.experiment_id, run_name=name, tags=tags).info.run_id
    )
    now = int(time.time() * 1000)
    tracker.client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in replay_metrics(run, summary).items()],
        params=[Param(k, v) for k, v in replay_params(run, summary).items()],
    )
    tracker.client.log_artifacts(run_id, str(report_dir))
    tracker.client.set_terminated(run_id)
    return run_id
