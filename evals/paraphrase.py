"""Measures a router on the labelled paraphrase set: how often it reads the request as a
careful desk operator would, and every time it proposed to act on words that do not say so.

`score` judges one routed intent; `measure` routes every item and gathers the report."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from evals.paraphrase_safety import base, unsafe_reasons
from evals.paraphrase_set import Expect, Paraphrase
from graph.intents import Intent

# What an expected kind accepts: asking back is as good as declining a request that cannot
# be acted on, and a refusal (unreadable numbers) is one way of asking back.
_ACCEPTS: dict[str, frozenset[str]] = {
    "clarify": frozenset({"clarify", "unknown", "refused"}),
    "unknown": frozenset({"unknown", "clarify"}),
}
_FLOAT_TOLERANCE = 1e-9


class Router(Protocol):
    """What graph/supervisor.Router is, without importing the desk's graph."""

    name: str

    def route(self, text: str) -> Intent: ...


class Outcome(BaseModel):
    """One item, routed and judged."""

    model_config = ConfigDict(frozen=True)

    id: str
    family: str
    text: str
    expect: Expect
    intent: Intent | None
    """None when the router raised (`error` says what)."""
    error: str | None = None
    correct: bool
    misses: list[str] = Field(default_factory=list)
    """What differs from the label: the kind, or each labelled field."""
    unsafe: list[str] = Field(default_factory=list)
    """Why the outcome would act on words that do not ask for it; empty when safe."""
    routed_by: str = ""
    seconds: float = 0.0

    @property
    def kind(self) -> str:
        return self.intent.kind if self.intent is not None else "error"


def _differs(field: str, expected: object, got: object) -> bool:
    if got is None:
        return True
    if field == "symbol":
        return base(str(got)) != expected
    if isinstance(expected, float) and isinstance(got, int | float):
        return not math.isclose(expected, got, rel_tol=0.0, abs_tol=_FLOAT_TOLERANCE)
    return expected != got


def score(item: Paraphrase, intent: Intent) -> Outcome:
    """Whether `intent` is what the item's label asks for, and whether it is unsafe."""
    expected = item.expect
    misses: list[str] = []
    if intent.kind not in _ACCEPTS.get(expected.kind, frozenset({expected.kind})):
        misses.append(f"kind: expected {expected.kind}, got {intent.kind}")
    else:
        got = intent.model_dump()
        misses += [
            f"{field}: expected {want!r}, got {got[field]!r}"
            for field, want in expected.labelled().items()
            if _differs(field, want, got[field])
        ]
    return Outcome(
        id=item.id, family=item.family, text=item.text, expect=expected, intent=intent,
        correct=not misses, misses=misses,
        unsafe=unsafe_reasons(intent, item.text, expected.kind, expected.side),
        routed_by=intent.routed_by,
    )  # fmt: skip


class FamilyRow(BaseModel):
    items: int = 0
    correct: int = 0
    unsafe: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.items if self.items else 0.0


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class ParaphraseReport(BaseModel):
    """A router's run over the set: what the CLI prints and writes as JSON."""

    router: str
    model: str | None = None
    outcomes: list[Outcome] = Field(default_factory=list)
    tokens: int | None = None
    """Tokens the router's model spent over the run; None when it has no token budget."""
    cost_usd: float | None = None

    @property
    def correct(self) -> int:
        return sum(o.correct for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.outcomes) if self.outcomes else 0.0

    @property
    def unsafe(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.unsafe]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def by_family(self) -> dict[str, FamilyRow]:
        rows: dict[str, FamilyRow] = {}
        for o in self.outcomes:
            row = rows.setdefault(o.family, FamilyRow())
            row.items += 1
            row.correct += o.correct
            row.unsafe += bool(o.unsafe)
        return rows

    def deciders(self) -> dict[str, int]:
        """How many items each router decided; a model's fallback to the rules counts apart."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            if o.intent is None:
                who = "error"
            else:
                who = o.intent.router + (" (fallback)" if o.intent.router_note else "")
            counts[who] = counts.get(who, 0) + 1
        return counts

    def seconds(self, share: float) -> float:
        """Seconds per request at the given percentile (0.5, 0.95)."""
        return _percentile([o.seconds for o in self.outcomes], share)

    def summary(self) -> dict[str, object]:
        return {
            "items": len(self.outcomes), "correct": self.correct,
            "accuracy": round(self.accuracy, 4), "unsafe": len(self.unsafe),
            "deciders": self.deciders(), "tokens": self.tokens, "cost_usd": self.cost_usd,
            "seconds_p50": round(self.seconds(0.5), 6),
            "seconds_p95": round(self.seconds(0.95), 6),
            "families": {
                name: row.model_dump() | {"accuracy": round(row.accuracy, 4)}
                for name, row in sorted(self.by_family().items())
            },
        }  # fmt: skip

    def to_json(self) -> str:
        """The summary and every outcome, as the CLI writes them."""
        outcomes = [
            o.model_dump(mode="json", exclude={"intent", "expect"})
            | {
                "kind": o.kind,
                "expect": o.expect.model_dump(mode="json", exclude_none=True),
                "intent": o.intent.model_dump(mode="json", exclude_defaults=True)
                if o.intent is not None
                else None,
            }
            for o in self.outcomes
        ]
        head = {"router": self.router, "model": self.model, "summary": self.summary()}
        return json.dumps(head | {"outcomes": outcomes}, indent=2)


def _spent(router: Router) -> tuple[int, float] | None:
    """Tokens and dollars the router's budget has counted so far, if it keeps one
    (graph/llm_router.LlmRouter.budget, a core.llm.TokenBudget)."""
    budget = getattr(router, "budget", None)
    used, cost = getattr(budget, "used", None), getattr(budget, "cost_usd", None)
    if isinstance(used, int) and isinstance(cost, float):
        return used, cost
    return None


def measure(
    router: Router, items: Sequence[Paraphrase], on_done: Callable[[Outcome], None] | None = None
) -> ParaphraseReport:
    """Route every item, score it, and report; `on_done` hears of each outcome."""
    before = _spent(router)
    outcomes: list[Outcome] = []
    for item in items:
        started = time.perf_counter()
        try:
            intent = router.route(item.text)
        except Exception as exc:  # a router that crashes on a request is a finding, not a stop
            outcome = Outcome(
                id=item.id, family=item.family, text=item.text, expect=item.expect, intent=None,
                error=f"{type(exc).__name__}: {str(exc)[:200]}", correct=False,
                misses=[f"router raised {type(exc).__name__}"],
            )  # fmt: skip
        else:
            outcome = score(item, intent)
        outcome = outcome.model_copy(update={"seconds": time.perf_counter() - started})
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    after = _spent(router)
    budget = getattr(router, "budget", None)
    model = getattr(budget, "model", None)
    return ParaphraseReport(
        router=router.name, model=model if isinstance(model, str) else None, outcomes=outcomes,
        tokens=after[0] - before[0] if before and after else None,
        cost_usd=after[1] - before[1] if before and after else None,
    )  # fmt: skip
