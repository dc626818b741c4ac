"""The optional LLM-as-judge: a rubric per scenario, scored by the configured model through
structured output. Used only when a model is configured; its tokens count in the report."""

from __future__ import annotations

import json
from uuid import uuid4

from pydantic import BaseModel, Field

import prompts
from core.llm.budget import TokenBudget
from core.llm.client import chat_model
from core.settings import Settings
from evals.graders import Check
from evals.harness import Observation
from evals.scenario import Scenario


class RubricScore(BaseModel):
    score: float = Field(ge=0, le=1)
    reason: str = Field(max_length=500)


class RubricJudge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version, self.prompt = prompts.load("eval_judge")
        self.budget = TokenBudget(settings.llm_token_budget, settings.llm_model, self.version)
        self.session = uuid4().hex

    def check(self, scenario: Scenario, obs: Observation) -> Check:
        assert scenario.expect.rubric is not None
        model = chat_model(
            self.settings, session_id=self.session, path="/evals/judge",
            properties={"prompt-version": self.version, "scenario": scenario.id},
            callbacks=[self.budget],
        )  # fmt: skip
        case = {
            "request": obs.requests,
            "answers": obs.answers,
            "tools": [{"name": c.name, "args": c.args} for c in obs.tools],
            "rubric": scenario.expect.rubric,
        }
        try:
            raw = model.with_structured_output(RubricScore, method="function_calling").invoke(
                [("system", self.prompt), ("human", json.dumps(case, default=str))]
            )
            scored = raw if isinstance(raw, RubricScore) else RubricScore.model_validate(raw)
        except Exception as exc:  # an unusable judge is a failed check, not a crash
            return Check("rubric (LLM judge)", False, f"judge failed: {type(exc).__name__}: {exc}")
        return Check("rubric (LLM judge)", scored.score >= 0.5, f"{scored.score}: {scored.reason}")
