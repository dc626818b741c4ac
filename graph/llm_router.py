"""The LLM router: structured output (function calling) into the intent model, with retry;
invalid output falls back to the rule router. The model only classifies: a trade, a halt or
a paper-trade it reads is honoured only when the user's own words instruct it
(graph/intent_guard.py), and whatever it says, orders still go through the gate."""

from __future__ import annotations

import logging
from uuid import uuid4

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, ValidationError

import prompts
from core.llm import BudgetExceededError, TokenBudget, chat_model
from core.settings import Settings
from graph.intent_guard import admit
from graph.intents import Intent, RoutedKind
from graph.rule_router import RuleRouter

log = logging.getLogger(__name__)


class RoutedIntent(BaseModel):
    """The desk request, classified."""

    model_config = ConfigDict(extra="forbid")

    kind: RoutedKind
    symbol: str | None = None
    side: str | None = None
    quantity: float | None = None
    limit_price: float | None = None
    strategy: str | None = None
    paper_trade: bool = False


class LlmRouter:
    name = "llm"

    def __init__(self, settings: Settings, fallback: RuleRouter, attempts: int = 2) -> None:
        self.settings = settings
        self.fallback = fallback
        self.attempts = attempts
        self.version, self.prompt = prompts.load("router")
        self.budget = TokenBudget(
            settings.llm_token_budget,
            settings.llm_model,
            self.version,
            request_budget=settings.llm_request_token_budget,
        )
        self.session = uuid4().hex
        self.last_error: str | None = None

    def route(self, text: str) -> Intent:
        self.budget.start_request()
        model = chat_model(
            self.settings, session_id=self.session, path="/pm/route",
            properties={"prompt-version": self.version, "agent": "pm"},
            callbacks=[self.budget],
        )  # fmt: skip
        structured = model.with_structured_output(RoutedIntent, method="function_calling")
        messages = [SystemMessage(self.prompt), HumanMessage(text)]
        for attempt in range(self.attempts):
            try:
                raw = structured.invoke(messages)
                routed = raw if isinstance(raw, RoutedIntent) else RoutedIntent.model_validate(raw)
                intent = Intent.model_validate(routed.model_dump() | {"router": "llm"})
                if intent.kind == "trade" and not (
                    intent.side and intent.quantity and intent.symbol
                ):
                    raise ValueError("a trade needs side, quantity and symbol")
                # The model read the whole request; only the user's own words may move
                # the desk (graph/intent_guard.py).
                return admit(intent, text, self.fallback.route(text))
            except BudgetExceededError as exc:
                self.last_error = str(exc)
                break
            except (ValidationError, ValueError) as exc:
                self.last_error = f"attempt {attempt + 1}: invalid output: {str(exc)[:200]}"
                # At temperature 0 the same messages fail the same way: the retry says why.
                messages = [
                    *messages[:2],
                    HumanMessage(
                        f"Your last answer was invalid: {str(exc)[:300]}. Call RoutedIntent "
                        "again with valid fields, or kind unknown if the request is unclear."
                    ),
                ]
            except Exception as exc:  # the endpoint failed (HTTP error, timeout, bad JSON)
                self.last_error = f"attempt {attempt + 1}: {type(exc).__name__}: {str(exc)[:200]}"
            log.warning("llm router fell short: %s", self.last_error)
        # The rules decide, and the answer says so: a fallback is never silent.
        note = f"model skipped: {self.last_error}"[:300]
        return self.fallback.route(text).model_copy(update={"router_note": note})
