"""Runs the scenarios with a router and grades them; the result is what the reports show."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from evals.cassettes import DEFAULT_ROOT, CassetteMode, Tape, shelf, tape, write_meta
from evals.graders import Check, grade
from evals.harness import prepare_store, prepare_tracking, run_scenario
from evals.judge_llm import RubricJudge
from evals.scenario import Scenario
from graph.intents import RouterName
from graph.routers import pick_router
from graph.supervisor import Router


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
    routed_by: list[str] = field(default_factory=list)
    """Per PM turn, who decided its request: "llm", or "rules" with why the model did not."""

    @property
    def model_turns(self) -> int:
        # As the grader reads a turn (evals/graders.py `decided_by_model`): the LLM router's,
        # with or without the guard's note ("llm (the request holds none of your own
        # words; ...)"): the model answered, and its reading was held to the own words.
        return sum(r.partition(" (")[0] == "llm" for r in self.routed_by)

    @property
    def rules_turns(self) -> int:
        return len(self.routed_by) - self.model_turns


@dataclass
class SuiteResult:
    router: str
    model: str | None
    results: list[ScenarioResult] = field(default_factory=list)
    judge_tokens: int = 0
    cassettes: str | None = None
    """The folder of the scenarios' cassettes, when recorded or replayed."""

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0

    def by_category(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for r in self.results:
            row = out.setdefault(r.category, dict.fromkeys(
                ("scenarios", "passed", "tokens", "cost_usd", "model_turns", "rules_turns",
                 "seconds"), 0,
            ))  # fmt: skip
            row["scenarios"] += 1
            row["passed"] += r.passed
            row["tokens"] += r.tokens
            row["cost_usd"] += r.cost_usd
            row["model_turns"] += r.model_turns
            row["rules_turns"] += r.rules_turns
            row["seconds"] = round(row["seconds"] + r.seconds, 2)
        for row in out.values():
            row["pass_rate"] = row["passed"] / row["scenarios"]
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "model": self.model,
            "cassettes": self.cassettes,
            "scenarios": len(self.results),
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "tokens": sum(r.tokens for r in self.results) + self.judge_tokens,
            "cost_usd": sum(r.cost_usd for r in self.results),
            "seconds": round(sum(r.seconds for r in self.results), 2),
            "model_turns": sum(r.model_turns for r in self.results),
            "rules_turns": sum(r.rules_turns for r in self.results),
            "by_category": self.by_category(),
            "results": [
                asdict(r) | {"model_turns": r.model_turns, "rules_turns": r.rules_turns}
                for r in self.results
            ],
        }


def run_suite(
    scenarios: list[Scenario],
    settings: Settings,
    router: RouterName | Router,
    *,
    cassette_mode: CassetteMode | None = None,
    cassettes: Path = DEFAULT_ROOT,
    on_done: Callable[[ScenarioResult], None] = lambda r: None,
) -> SuiteResult:
    """Run and grade `scenarios`. A router named by `router` is made afresh for each
    scenario, so that each starts with a fresh token budget and its recording does not
    depend on which scenarios ran before it; a Router object serves them all. With
    `cassette_mode` the LLM's exchanges are recorded to, or replayed from, one cassette per
    scenario in `cassettes`/<model>/<prompt version>/ (replay: settings as recorded, see
    evals.cassettes.replay_settings)."""
    name = router if isinstance(router, str) else router.name
    if cassette_mode is not None and name != "llm":
        raise ValueError("cassettes record and replay the LLM router's exchanges: use router llm")
    model = settings.llm_model if settings.llm_base_url else None
    folder = shelf(cassettes, settings.llm_model) if cassette_mode else None
    suite = SuiteResult(router=name, model=model, cassettes=str(folder) if folder else None)
    with tempfile.TemporaryDirectory(prefix="evals-") as tmp:
        needs_data = any(s.setup.data != "none" for s in scenarios)
        template = prepare_store(Path(tmp)) if needs_data else None
        # Each scenario still gets a desk of its own (store copy, checkpoints, memory); only
        # the MLflow store, written and never read by the desks, is one for the suite.
        desk_settings = prepare_tracking(Path(tmp), settings)
        for scenario in scenarios:
            started = time.perf_counter()
            chosen = pick_router(router, settings) if isinstance(router, str) else router
            # A judge per scenario too: its token budget would otherwise span the suite.
            judge = RubricJudge(settings) if settings.llm_base_url else None
            recording: AbstractContextManager[Tape | None] = (
                tape(folder, scenario.id, cassette_mode) if folder and cassette_mode
                else nullcontext()
            )  # fmt: skip
            with recording as seen:
                obs = run_scenario(scenario, template, chosen, desk_settings)
                checks = grade(scenario, obs, by_model=name == "llm")
                if judge is not None and scenario.expect.rubric:
                    checks.append(judge.check(scenario, obs))
            if seen is not None and (check := seen.check()) is not None:
                checks.insert(1, check)
            if judge is not None:
                suite.judge_tokens += judge.budget.used
            result = ScenarioResult(
                id=scenario.id, category=scenario.category,
                passed=all(c.passed for c in checks), checks=checks,
                tokens=obs.tokens, cost_usd=obs.cost_usd, steps=obs.steps,
                seconds=round(time.perf_counter() - started, 2),
                trace=obs.trace, answers=obs.answers,
                routed_by=[t.routed_by for t in obs.routing],
            )  # fmt: skip
            suite.results.append(result)
            on_done(result)
    if folder is not None and cassette_mode == "record":
        write_meta(folder, settings, {r.id: r.passed for r in suite.results})
    return suite
