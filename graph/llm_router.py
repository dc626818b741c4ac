"""The LLM router: two tool calls into tight routing schemas (graph/routing_schema.py),
held to the user's own words (graph/intent_guard.py). The first call reads the kind; a
kind that takes details (an order's side, size and price, an instrument, a strategy) gets a
second call asking for those fields alone, so each prompt stays short. The model only
classifies: an order, a halt or a paper-trade it reads is honoured only when the user's own
words instruct it, its numbers only when the request writes them, and whatever it says,
orders still go through the gate. Invalid output is retried once with the validation
error; then the rules decide, and the answer says so."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import uuid4

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

import prompts
from core.llm import BudgetExceededError, TokenBudget, chat_model
from core.settings import Settings
from gateway import load_limits
from gateway.limits import DEFAULT_LIMITS
from graph.intent_guard import admit
from graph.intents import KIND_MEANINGS, Intent
from graph.routing_schema import (
    FIELDS_TOOL,
    KIND_FIELDS,
    KIND_TOOL,
    NULL_ROUTE,
    KindAnswer,
    RoutedIntent,
    desk_bases,
    fields_tool,
    kind_tool,
    routed,
)
from graph.rule_router import RuleRouter

log = logging.getLogger(__name__)
MAX_ROUTE_TOKENS = 120  # a routing call is a short JSON object
T = TypeVar("T")
# What the retry offers when the request does not say: each call's own way out.
_WAY_OUT = {
    KIND_TOOL: "or kind unknown if the request is unclear",
    FIELDS_TOOL: "with null for what the request does not write",
}


class _ModelSkippedError(Exception):
    """The model could not be used for this request; `LlmRouter.last_error` says why."""


class LlmRouter:
    name = "llm"

    def __init__(self, settings: Settings, fallback: RuleRouter, attempts: int = 2) -> None:
        self.settings = settings
        self.fallback = fallback
        self.attempts = attempts
        self.version, kind_prompt = prompts.load("router")
        fields_version, fields_prompt = prompts.load("router_fields")
        if fields_version != self.version:
            raise ValueError(f"router prompts disagree: {self.version} and {fields_version}")
        limits = load_limits(settings.limits_path or DEFAULT_LIMITS)
        self.bases = desk_bases(i.id for i in limits.instruments)
        # Worked examples: those marked `turn` go to the first call as earlier turns, every
        # example of a kind with fields to that kind's call as "request -> fields" lines.
        # A small model follows shown turns far better than described ones: on the first
        # held-out set the 0.5B named 39 of 120 kinds right with the examples as lines in
        # the system prompt, 73 with all 35 as turns, 72 with 19 (17 now, to keep the call
        # under 1,000 tokens). Each is validated here, so a bad example fails at start.
        shown: dict[str, list[str]] = {}
        self.kind_examples: list[BaseMessage] = []
        for request, route, turn in prompts.examples("router"):
            answer = RoutedIntent.model_validate(NULL_ROUTE | route).model_dump()
            kind = answer["kind"]
            if turn:
                said = AIMessage(json.dumps({"kind": kind}))
                self.kind_examples += [HumanMessage(request), said]
            if kind in KIND_FIELDS:
                fields = {f: answer[f] for f in KIND_FIELDS[kind]}
                shown.setdefault(kind, []).append(f"{json.dumps(request)} -> {json.dumps(fields)}")
        # Both system prompts are stable prefixes the server's prompt cache reuses: the kind
        # prompt for every request, the fields prompt per kind.
        self.kind_prompt = kind_prompt
        self.fields_prompts = {
            kind: "\n".join([
                fields_prompt, "", f"The request's kind is {kind}: {KIND_MEANINGS[kind]}.",
                "Examples:", *shown.get(kind, []),
            ])
            for kind in KIND_FIELDS
        }  # fmt: skip
        self.fields_tools = {kind: fields_tool(kind, self.bases) for kind in KIND_FIELDS}
        self.kind_tool = kind_tool()
        self.budget = TokenBudget(
            settings.llm_token_budget,
            settings.llm_model,
            self.version,
            request_budget=settings.llm_request_token_budget,
        )
        self.session = uuid4().hex
        self.last_error: str | None = None

    def _ask(self, messages: list[BaseMessage], tool: dict[str, Any], path: str) -> dict[str, Any]:
        model = chat_model(
            self.settings, session_id=self.session, path=path,
            properties={"prompt-version": self.version, "agent": "pm"},
            callbacks=[self.budget], max_tokens=MAX_ROUTE_TOKENS,
        )  # fmt: skip
        raw = model.with_structured_output(tool, method="function_calling").invoke(messages)
        if not isinstance(raw, dict):
            raise ValueError(f"expected the tool's arguments, got {type(raw).__name__}")
        return raw

    def _call(
        self, system: str, text: str, tool: dict[str, Any], path: str,
        read: Callable[[dict[str, Any]], T], shown: list[BaseMessage] | None = None,
    ) -> T:  # fmt: skip
        messages: list[BaseMessage] = [SystemMessage(system), *(shown or []), HumanMessage(text)]
        asked = len(messages)
        for attempt in range(self.attempts):
            try:
                return read(self._ask(messages, tool, path))
            except BudgetExceededError as exc:
                self.last_error = str(exc)
                raise _ModelSkippedError from exc
            except (ValidationError, ValueError) as exc:
                self.last_error = f"attempt {attempt + 1}: invalid output: {str(exc)[:200]}"
                # At temperature 0 the same messages fail the same way: the retry says why.
                messages = [
                    *messages[:asked],
                    HumanMessage(
                        f"Your last answer was invalid: {str(exc)[:300]}. Call {tool['title']} "
                        f"again with valid fields, {_WAY_OUT[tool['title']]}."
                    ),
                ]
            except Exception as exc:  # the endpoint failed (HTTP error, timeout, bad JSON)
                self.last_error = f"attempt {attempt + 1}: {type(exc).__name__}: {str(exc)[:200]}"
                # A one-slot server that timed out is still generating: asking again queues
                # behind it. The rules answer now.
                raise _ModelSkippedError from exc
            log.warning("llm router fell short: %s", self.last_error)
        raise _ModelSkippedError

    def _read(self, text: str) -> Intent:
        kind = self._call(
            self.kind_prompt, text, self.kind_tool, "/pm/route",
            lambda raw: KindAnswer.model_validate(raw).kind, self.kind_examples,
        )  # fmt: skip
        if kind not in KIND_FIELDS:
            return routed(kind, {}).intent(text, self.bases)
        return self._call(
            self.fields_prompts[kind], text, self.fields_tools[kind], "/pm/route/fields",
            lambda raw: routed(kind, raw).intent(text, self.bases),
        )  # fmt: skip

    def route(self, text: str) -> Intent:
        self.budget.start_request()
        rules = self.fallback.route(text)
        self.last_error = None
        try:
            return admit(self._read(text), text, rules)
        except _ModelSkippedError:
            # The rules decide, and the answer says so: a fallback is never silent.
            note = f"model skipped: {self.last_error}"[:300]
            return rules.model_copy(update={"router_note": note})
