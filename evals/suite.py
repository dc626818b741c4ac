"""Runs the scenarios with a router and grades them; the result is what the reports show."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from evals.graders import Check, grade
from evals.harness import prepare_store, prepare_tracking, run_scenario
from evals.judge_llm import RubricJudge
from evals.scenario import Scenario
from graph.supervisor import Router

CASSETTES = Path(__file__).parent / "cassettes"


@dataclass
class ScenarioResult:
    id: str
    category: str
    passed: bool
    checks: list[Check]
    tokens: int
    cost_usd: float
    steps: int
    seconds: float
    trace: list[str]
    answers: list[str]


@dataclass
class SuiteResult:
    router: str
    model: str | None
    results: list[ScenarioResult] = field(default_factory=list)
    judge_tokens: int = 0

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0

    def by_category(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for r in self.results:
            row = out.setdefault(
                r.category, {"scenarios": 0, "passed": 0, "tokens": 0, "cost_usd": 0.0}
            )
            row["scenarios"] += 1
            row["passed"] += r.passed
            row["tokens"] += r.tokens
            row["cost_usd"] += r.cost_usd
        for row in out.values():
            row["pass_rate"] = row["passed"] / row["scenarios"]
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "model": self.model,
            "scenarios": len(self.results),
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "tokens": sum(r.tokens for r in self.results) + self.judge_tokens,
            "cost_usd": sum(r.cost_usd for r in self.results),
            "by_category": self.by_category(),
            "results": [asdict(r) for r in self.results],
        }


@contextmanager
def cassette(mode: str | None, router: str, model: str | None) -> Iterator[None]:
    """Record the LLM's HTTP exchanges (auth headers filtered) or replay them (no network)."""
    if mode is None:
        yield
        return
    import vcr

    CASSETTES.mkdir(parents=True, exist_ok=True)
    recorder = vcr.VCR(
        record_mode="all" if mode == "record" else "none",
        filter_headers=["authorization", "helicone-auth", "api-key"],
        match_on=["method", "scheme", "host", "port", "path", "body"],
        ignore_localhost=False,
    )
    with recorder.use_cassette(
        str(CASSETTES / f"{router}-{(model or 'none').replace('/', '_')}.yaml")
    ):
        yield


def run_suite(
    scenarios: list[Scenario],
    settings: Settings,
    router: Router,
    *,
    cassette_mode: str | None = None,
    on_done: Callable[[ScenarioResult], None] = lambda r: None,
) -> SuiteResult:
    model = settings.llm_model if settings.llm_base_url else None
    suite = SuiteResult(router=router.name, model=model)
    judge = RubricJudge(settings) if settings.llm_base_url else None
    with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
        needs_data = any(s.setup.data != "none" for s in scenarios)
        template = prepare_store(Path(tmp)) if needs_data else None
        # Each scenario still gets a desk of its own (store copy, checkpoints, memory); only
        # the MLflow store, written and never read by the desks, is one for the suite.
        desk_settings = prepare_tracking(Path(tmp), settings)
        recording = cassette(cassette_mode, router.name, model) if cassette_mode else nullcontext()
        with recording:
            for scenario in scenarios:
                started = time.perf_counter()
                obs = run_scenario(scenario, template, router, desk_settings)
                checks = grade(scenario, obs)
                if judge is not None and scenario.expect.rubric:
                    checks.append(judge.check(scenario, obs))
                result = ScenarioResult(
                    id=scenario.id, category=scenario.category,
                    passed=all(c.passed for c in checks), checks=checks,
                    tokens=obs.tokens, cost_usd=obs.cost_usd, steps=obs.steps,
                    seconds=round(time.perf_counter() - started, 2),
                    trace=obs.trace, answers=obs.answers,
                )  # fmt: skip
                suite.results.append(result)
                on_done(result)
    if judge is not None:
        suite.judge_tokens = judge.budget.used
    return suite
