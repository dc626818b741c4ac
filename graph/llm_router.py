"""The LLM router: a tool call into a tight routing schema (graph/routing_schema.py), held
to the user's own words (graph/intent_guard.py). The model only classifies: an order, a
halt or a paper-trade it reads is honoured only when the user's own words instruct it, its
numbers only when the request writes them, and whatever it says, orders still go through
the gate. Invalid output is retried once with the validation error; then the rules decide,
and the answer says so."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import uuid4

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

import prompts
from core.llm import BudgetExceededError, TokenBudget, chat_model
from core.settings import Settings
from gateway import load_limits
from gateway.limits import DEFAULT_LIMITS
from graph.intent_guard import admit
from graph.intents import Intent
from graph.routing_schema import NULL_ROUTE, RoutedIntent, desk_bases, routing_tool
from graph.rule_router import RuleRouter

log = logging.getLogger(__name__)
MAX_ROUTE_TOKENS = 120  # a routing call is a short JSON object


class LlmRouter:
    name = "llm"

    def __init__(self, settings: Settings, fallback: RuleRouter, attempts: int = 2) -> None:
        self.settings = settings
        self.fallback = fallback
        self.attempts = attempts
        self.version, self.prompt = prompts.load("router")
        limits = load_limits(settings.limits_path or DEFAULT_LIMITS)
        self.bases = desk_bases(i.id for i in limits.instruments)
        self.tool = routing_tool(self.bases)
        # Worked examples as earlier turns: a small model follows shown answers far better
        # than described ones (on the 0.5B: 10 of 25 sampled requests right without, 15 with
        # the first draft). Each is validated here, so a bad example fails at start.
        self.examples: list[BaseMessage] = []
        for request, route in prompts.examples("router"):
            shown = RoutedIntent.model_validate(NULL_ROUTE | route)
            self.examples += [HumanMessage(request), AIMessage(json.dumps(shown.model_dump()))]
        self.budget = TokenBudget(
            settings.llm_token_budget,
            settings.llm_model,
            self.version,
            request_budget=settings.llm_request_token_budget,
        )
        self.session = uuid4().hex
        self.last_error: str | None = None

    def _ask(self, messages: list[BaseMessage]) -> dict[str, Any]:
        model = chat_model(
            self.settings, session_id=self.session, path="/pm/route",
            properties={"prompt-version": self.version, "agent": "pm"},
            callbacks=[self.budget], max_tokens=MAX_ROUTE_TOKENS,
        )  # fmt: skip
        raw = model.with_structured_output(self.tool, method="function_calling").invoke(messages)
        if not isinstance(raw, dict):
            raise ValueError(f"expected the tool's arguments, got {type(raw).__name__}")
        return raw

    def route(self, text: str) -> Intent:
        self.budget.start_request()
        rules = self.fallback.route(text)
        # The system prompt and the tool schema never change: a stable prefix the server's
        # prompt cache reuses from one request to the next.
        messages: list[BaseMessage] = [
            SystemMessage(self.prompt), *self.examples, HumanMessage(text),
        ]  # fmt: skip
        self.last_error = None
        for attempt in range(self.attempts):
            try:
                routed = RoutedIntent.model_validate(self._ask(messages))
                return admit(routed.intent(text, self.bases), text, rules)
            except BudgetExceededError as exc:
                self.last_error = str(exc)
                break
            except (ValidationError, ValueError) as exc:
                self.last_error = f"attempt {attempt + 1}: invalid output: {str(exc)[:200]}"
                # At temperature 0 the same messages fail the same way: the retry says why.
                messages = [
                    *messages[: 2 + len(self.examples)],
                    HumanMessage(
                        f"Your last answer was invalid: {str(exc)[:300]}. Call RoutedIntent "
                        "again with valid fields, or kind unknown if the request is unclear."
                    ),
                ]
            except Exception as exc:  # the endpoint failed (HTTP error, timeout, bad JSON)
                self.last_error = f"attempt {attempt + 1}: {type(exc).__name__}: {str(exc)[:200]}"
                # A one-slot server that timed out is still generating: asking again queues
                # behind it. The rules answer now.
                break
            log.warning("llm router fell short: %s", self.last_error)
        # The rules decide, and the answer says so: a fallback is never silent.
        note = f"model skipped: {self.last_error}"[:300]
        return rules.model_copy(update={"router_note": note})
