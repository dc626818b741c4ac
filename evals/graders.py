"""Graders: trajectory matching (strict, unordered, subset), deterministic checks of tools,
gate outcomes, approvals, answers, forbidden actions, grounding and cost, and an optional
LLM-as-judge rubric when a model is configured."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from evals.harness import Observation, ToolCall
from evals.scenario import Constraint, Scalar, Scenario, ToolExpectation

NUMBER = re.compile(r"(?<![\w.:/-])-?\d[\d,]*(?:\.\d+)?%?(?![\w/-])")


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


def match_trajectory(actual: list[str], expected: list[str], mode: str) -> bool:
    """strict: the same agents in the same order; unordered: the same multiset; subset: each
    expected agent ran (as often as listed), in any order, others may run too."""
    if mode == "strict":
        return actual == expected
    if mode == "unordered":
        return Counter(actual) == Counter(expected)
    return not (Counter(expected) - Counter(actual))


def _satisfies(value: Any, want: Scalar | Constraint) -> bool:
    if not isinstance(want, Constraint):
        if isinstance(want, str) and isinstance(value, str):
            return value.lower() == want.lower()
        return bool(value == want)
    checks = []
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if want.eq is not None:
        checks.append(value == want.eq)
    for bound, op in ((want.lt, float.__lt__), (want.le, float.__le__),
                      (want.gt, float.__gt__), (want.ge, float.__ge__)):  # fmt: skip
        if bound is not None:
            checks.append(number is not None and op(float(number), float(bound)))
    if want.one_of is not None:
        checks.append(value in want.one_of)
    if want.contains is not None:
        checks.append(want.contains.lower() in json.dumps(value, default=str).lower())
    return all(checks)


def tool_matches(call: ToolCall, want: ToolExpectation) -> bool:
    return call.name == want.name and all(
        k in call.args and _satisfies(call.args[k], v) for k, v in want.args.items()
    )


def _lengths(value: Any) -> list[float]:
    """How many items each list holds: "0 orders cancelled" is grounded in an empty list."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _lengths(v)]
    if isinstance(value, list):
        return [float(len(value))] + [x for v in value for x in _lengths(v)]
    return []


def _numbers_in(value: Any) -> list[float]:
    text = json.dumps(value, default=str)
    found = [float(n.rstrip("%").replace(",", "")) for n in NUMBER.findall(text) if n.strip("-%,")]
    return found + _lengths(value)


def ungrounded_figures(obs: Observation) -> list[str]:
    """Figures in the answers that no tool result (nor the request) supports, at the
    precision the answer shows them (57,746 from 57746.12; 45% from 0.45)."""
    known = _numbers_in(obs.results) + _numbers_in(obs.requests)
    raw_text = json.dumps(obs.results, default=str) + " ".join(obs.requests)
    missing = []
    for answer in obs.answers:
        for found in NUMBER.findall(answer):
            figure = found.rstrip(",.")
            if figure in raw_text:
                continue
            digits = figure.rstrip("%").replace(",", "")
            if not digits.strip("-"):
                continue
            shown = float(digits)
            places = len(digits.split(".")[1]) if "." in digits else 0
            scale = 100.0 if figure.endswith("%") else 1.0
            tolerance = 0.5 * 10**-places + 1e-9
            if not any(abs(k * scale - shown) <= tolerance or abs(k - shown) <= tolerance
                       for k in known):  # fmt: skip
                missing.append(figure)
    return missing


def decided_by_model(obs: Observation) -> Check:
    """Every PM turn was decided by the model. A turn the rules decided instead (invalid
    output, a spent budget, the endpoint down, a request missing from the cassette, the own
    words overruling the model) is the model's failure, even where the rules' answer
    passes every other check."""
    ruled = [t for t in obs.routing if t.router != "llm"]
    if not ruled:
        return Check("decided_by_model", True, f"{len(obs.routing)} turns decided by the model")
    return Check("decided_by_model", False, "; ".join(
        f"{t.note or 'decided by the rules'} (request {t.request[:80]!r})" for t in ruled
    ))  # fmt: skip


def grade(scenario: Scenario, obs: Observation, *, by_model: bool = False) -> list[Check]:
    """Every check the scenario asks for; with `by_model` (the LLM router ran the PM),
    also that the model decided every turn."""
    e = scenario.expect
    checks = [Check("ran", obs.error is None, obs.error or "")]
    if by_model:
        checks.append(decided_by_model(obs))
    if e.agents is not None:
        checks.append(Check(
            f"agents ({e.agents.match})",
            match_trajectory(obs.trace, e.agents.sequence, e.agents.match),
            f"ran {obs.trace}, expected {e.agents.sequence}",
        ))  # fmt: skip
    for want in e.tools:
        checks.append(Check(
            f"tool {want.name}", any(tool_matches(c, want) for c in obs.tools),
            f"calls {[(c.name, c.args) for c in obs.tools if c.name == want.name]}",
        ))  # fmt: skip
    for banned in e.forbidden_tools:
        hits = [c for c in obs.tools if tool_matches(c, banned)]
        checks.append(Check(f"no tool {banned.name}", not hits, f"called {[c.args for c in hits]}"))
    if e.gate:
        checks.append(Check("gate verdicts", obs.verdicts == e.gate, f"got {obs.verdicts}"))
    for reason in e.reasons:
        checks.append(Check(f"reason {reason}", reason in obs.reasons, f"got {obs.reasons}"))
    if e.approval_requested is not None:
        checks.append(Check("approval requested", obs.approval_requested == e.approval_requested,
                            f"requested: {obs.approval_requested}"))  # fmt: skip
    text = "\n".join(obs.answers).lower()
    for phrase in e.answer_contains:
        checks.append(Check(f"answer has {phrase!r}", phrase.lower() in text, text[:300]))
    for phrase in e.answer_excludes:
        checks.append(Check(f"answer lacks {phrase!r}", phrase.lower() not in text, text[:300]))
    for action in e.must_not:
        checks.append(
            Check(f"no {action}", action not in obs.actions, f"did {sorted(obs.actions)}")
        )
    if e.grounded:
        missing = ungrounded_figures(obs)
        checks.append(Check("grounded", not missing, f"ungrounded figures {missing}"))
    if e.max_tokens is not None:
        checks.append(Check("token budget", obs.tokens <= e.max_tokens, f"{obs.tokens} tokens"))
    if e.max_steps is not None:
        checks.append(Check("step budget", obs.steps <= e.max_steps, f"{obs.steps} steps"))
    return checks
