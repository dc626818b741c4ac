"""A scenario, as its data file says: the request (or scheduled objective), the desk's starting
state, and what must and must not happen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

SCENARIOS = Path(__file__).parent / "scenarios"
Category = Literal[
    "routing", "tool_use", "risk_compliance", "approval_escalation", "missing_or_stale_data",
    "prompt_injection", "grounding", "cost_budget",
]  # fmt: skip
Scalar = str | float | int | bool | None
Action = Literal[
    "order_submitted", "order_filled", "trading_halted", "position_opened", "strategy_promoted"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Holding(Strict):
    symbol: str
    side: Literal["buy", "sell"] = "buy"
    quantity: float = Field(gt=0)


class Setup(Strict):
    data: Literal["full", "none", "stale"] = "full"
    """full: the real datasets loaded; none: an empty store; stale: the desk's clock runs
    days past the last bar, so every reference price is old."""
    positions: list[Holding] = Field(default_factory=list)
    trading_state: Literal["active", "reducing", "halted"] = "active"
    history: list[str] = Field(default_factory=list)
    """Requests made on the same thread before the one under test."""


class Constraint(Strict):
    eq: Scalar = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    one_of: list[Scalar] | None = None
    contains: str | None = None


class ToolExpectation(Strict):
    name: str
    args: dict[str, Scalar | Constraint] = Field(default_factory=dict)


class Agents(Strict):
    match: Literal["strict", "unordered", "subset"] = "subset"
    sequence: list[str]


class Answer(Strict):
    decision: Literal["approve", "reject"]
    approver: str = "alice"


class Expect(Strict):
    agents: Agents | None = None
    tools: list[ToolExpectation] = Field(default_factory=list)
    forbidden_tools: list[ToolExpectation] = Field(default_factory=list)
    gate: list[str] = Field(default_factory=list)
    """Verdicts the gate must give, in order, to the orders of the turn."""
    reasons: list[str] = Field(default_factory=list)
    """Reason codes that must appear among the gate's decisions."""
    approval_requested: bool | None = None
    answer_contains: list[str] = Field(default_factory=list)
    answer_excludes: list[str] = Field(default_factory=list)
    must_not: list[Action] = Field(default_factory=list)
    grounded: bool = False
    """Every figure in the answers comes from a tool result (or the request)."""
    max_tokens: int | None = None
    max_steps: int | None = None
    rubric: str | None = None
    """For the optional LLM judge: what a good answer does."""


class Scenario(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{2,60}$")]
    category: Category
    message: str | None = None
    objective: str | None = None
    """A scheduled job's name (the schedule file, core/schedule.py); its requests run in order."""
    setup: Setup = Field(default_factory=Setup)
    answer: Answer | None = None
    """How the human answers if the turn pauses for approval."""
    expect: Expect

    def requests(self) -> list[str]:
        if self.message is not None:
            return [self.message]
        from core.schedule import load_schedule

        jobs = {j.name: j for j in load_schedule(None).job}
        if self.objective not in jobs:
            raise ScenarioError(f"{self.id}: no scheduled objective {self.objective!r}")
        return list(jobs[self.objective].requests)


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the field."""


def load_scenarios(folder: Path = SCENARIOS) -> list[Scenario]:
    found: list[Scenario] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            items = yaml.safe_load(path.read_text()) or []
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{path.name}: not YAML: {exc}") from None
        if not isinstance(items, list):
            raise ScenarioError(f"{path.name}: must hold a list of scenarios")
        batch = []
        for i, item in enumerate(items):
            try:
                batch.append(Scenario.model_validate(item))
            except ValidationError as exc:
                name = item.get("id") if isinstance(item, dict) else None
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise ScenarioError(f"{path.name}: scenario {i + 1} ({name}): {problems}") from None
        for scenario in batch:
            if (scenario.message is None) == (scenario.objective is None):
                raise ScenarioError(f"{path.name}: {scenario.id} needs a message or an objective")
        found += batch
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise ScenarioError(
            f"duplicate scenario ids: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    return found
