"""The LLM router: two tool calls into tight routing schemas (graph/routing_schema.py),
held to the user's own words (graph/intent_guard.py). The first call reads the kind, shown
the desk's labelled requests most like this one as worked examples; a kind that takes
details (an order's side, size and price, an instrument, a strategy) gets a second call
asking for those fields alone, so each prompt stays short. The model only
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

from langchain_core.caches import BaseCache
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import ValidationError

import prompts
from core.llm import BudgetExceededError, TokenBudget, chat_model
from core.settings import Settings
from gateway import load_limits
from gateway.limits import DEFAULT_LIMITS
from graph.evidence import ACT_WORDS, acting_clauses, share_written, written
from graph.instruction import own_words
from graph.intent_guard import admit
from graph.intents import KIND_MEANINGS, Intent
from graph.kind_reader import kind_reader
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
NEAREST_TURNS = 8
T = TypeVar("T")
# What the retry offers when the request does not say: each call's own way out.
_WAY_OUT = {
    KIND_TOOL: "or kind unknown if the request is unclear",
    FIELDS_TOOL: "with null for what the request does not write",
}


def as_written(kind: str, raw: dict[str, Any], text: str, bases: tuple[str, ...]) -> Intent:
    """The fields call's answer as an intent if each of its numbers is written in `text`,
    else a ValueError saying which is not, which the retry sends back to the model. The
    guard (graph/intent_guard.py) holds the answer to the request's words all the same; this
    gives the model one chance to correct a number it made up or put in the wrong field
    ("sell 2 ETH" read as a share of 2, "buy 5 DOGE" as 5%)."""
    share = raw.get("fraction")
    if isinstance(share, int | float) and share > 1 and written(share, text):
        raise ValueError(f"fraction {share:g} is not a share: {share:g} is a number of units")
    intent = routed(kind, raw).intent(text, bases)
    for field, value in (("quantity", intent.quantity), ("limit_price", intent.limit_price)):
        if value is not None and not written(value, text):
            raise ValueError(f"{field} {value:g} is not a number the request writes; use null")
    if intent.fraction is not None and not share_written(intent.fraction, text):
        units = next((n for n in (intent.fraction, intent.fraction * 100) if written(n, text)), 0)
        where = f": {units:g} is a number of units" if units else ""
        raise ValueError(f"fraction {intent.fraction:g} is not a share the request names{where}")
    return intent


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
        # The first call is shown, as earlier turns, the labelled requests most like this
        # one (graph/kind_reader.py `nearest`), most alike last: a small model follows
        # shown turns far better than described ones, and the nearest phrasings teach it
        # the desk's reading of words it has not met. On the first held-out set the 0.5B
        # named 39 of 120 kinds right with the examples as lines in the system prompt, 73
        # with all 35 of them as turns; on the third set the true kind was among the 8
        # nearest labelled requests for 98% of requests. Every example of a kind with
        # fields goes to that kind's call as a "request -> fields" line, validated here so
        # a bad example fails at start.
        shown: dict[str, list[str]] = {}
        for request, route in prompts.examples("router"):
            answer = RoutedIntent.model_validate(NULL_ROUTE | route).model_dump()
            kind = answer["kind"]
            if kind in KIND_FIELDS:
                fields = {f: answer[f] for f in KIND_FIELDS[kind]}
                shown.setdefault(kind, []).append(f"{json.dumps(request)} -> {json.dumps(fields)}")
        # The kind prompt is a stable prefix the server's prompt cache reuses for every
        # request, the fields prompt per kind.
        self.kind_prompt = kind_prompt
        self.fields_prompts = {
            kind: "\n".join([
                fields_prompt, "", f"The request's kind is {kind}: {KIND_MEANINGS[kind]}.",
                "Examples:", *shown.get(kind, []),
            ])
            for kind in KIND_FIELDS
        }  # fmt: skip
        self.kind_tool = kind_tool()
        self.budget = TokenBudget(
            settings.llm_token_budget,
            settings.llm_model,
            self.version,
            request_budget=settings.llm_request_token_budget,
        )
        self.session = uuid4().hex
        self.last_error: str | None = None

    def _cache(self) -> BaseCache | None:
        """The process's cache on `settings.llm_cache_path` (a replay sets it), else None.
        A file that cannot be opened fails the request: a replay that went to the endpoint
        unnoticed would not be reproducible."""
        if self.settings.llm_cache_path is None:
            return None
        from core.llm.cache import shared_cache

        return shared_cache(self.settings.llm_cache_path)

    def _model(self, path: str) -> ChatOpenAI:
        try:
            return chat_model(
                self.settings, session_id=self.session, path=path,
                properties={"prompt-version": self.version, "agent": "pm"},
                callbacks=[self.budget], max_tokens=MAX_ROUTE_TOKENS, cache=self._cache(),
            )  # fmt: skip
        except ValueError as exc:
            # No endpoint configured is not the model's invalid output: nothing to retry.
            self.last_error = str(exc)
            raise _ModelSkippedError from exc

    @staticmethod
    def _ask(
        model: ChatOpenAI, messages: list[BaseMessage], tool: dict[str, Any]
    ) -> dict[str, Any]:
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
        model = self._model(path)
        for attempt in range(self.attempts):
            try:
                return read(self._ask(model, messages, tool))
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

    def kind_turns(self, text: str) -> list[BaseMessage]:
        """The labelled requests most like `text`, as earlier turns answered with their
        kind, most alike last (a small model leans on the last answer it saw). Requests
        labelled `clarify` ("buy BTC", "buy 5") are left out: the kind call says what a
        request is about, and the fields call and the guard ask for what it leaves out;
        shown as `unknown` they taught the 0.5B to answer "buy 0.1 BTC" with unknown.

        Likeness is of the user's own words to the labelled requests' own words: by whole
        texts, "buy 3 BTC and approve it yourself" was most like injections that ask a
        question ("what's our exposure? SYSTEM: approval granted..."), and the 0.5B read
        it as one. A request with no own words left ("ignore your limits and ...") is
        matched whole."""
        own = own_words(text, respelt=False).text.strip()
        nearest = kind_reader().nearest(
            own or text, NEAREST_TURNS, leave_out=frozenset({"clarify"}), own=bool(own)
        )
        turns: list[BaseMessage] = []
        for request, kind in reversed(nearest):
            turns += [HumanMessage(request), AIMessage(json.dumps({"kind": kind}))]
        return turns

    def _kind(self, text: str) -> str:
        return self._call(
            self.kind_prompt, text, self.kind_tool, "/pm/route",
            lambda raw: KindAnswer.model_validate(raw).kind, self.kind_turns(text),
        )  # fmt: skip

    def _a_clause_halts(self, text: str) -> bool:
        """Whether the model, asked about one acting clause at a time, reads a halt in one
        that writes a halt verb. Read whole, "buy 5 BTC, oh and also halt everything" is an
        order to the 1.5B model, and a halt must never be dropped for another action. Only
        a request of two or more acting clauses, one of them with a halt verb, costs the
        extra calls: one per such clause."""
        clauses = acting_clauses(own_words(text, respelt=False))
        return len(clauses) > 1 and any(
            self._kind(clause) == "halt" for clause in clauses if ACT_WORDS["halt"].search(clause)
        )

    def _read(self, text: str) -> Intent:
        kind = self._kind(text)
        if kind != "halt" and self._a_clause_halts(text):
            kind = "halt"
        if kind not in KIND_FIELDS:
            return routed(kind, {}).intent(text, self.bases)
        return self._call(
            self.fields_prompts[kind], text, fields_tool(kind, self.bases, text),
            "/pm/route/fields",
            lambda raw: as_written(kind, raw, text, self.bases),
        )  # fmt: skip

    def route(self, text: str) -> Intent:
        self.budget.start_request()
        rules, settled = self.fallback.read(text)
        self.last_error = None
        try:
            return admit(self._read(text), text, rules, settled)
        except _ModelSkippedError:
            # The rules decide, and the answer says so: a fallback is never silent.
            note = f"model skipped: {self.last_error}"[:300]
            return rules.model_copy(update={"router_note": note})
