"""A token budget per run that aborts cleanly, and a log line per LLM call with its prompt
version, tokens, latency and cost; usage listeners (`on_usage`) hear of every call, which is
how a served desk puts its LLM spend on the bus for the monitor."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

if TYPE_CHECKING:
    # The bus (zenoh) and the metrics (prometheus-client) load at the first LLM call: the
    # PM graph imports this module, and a question the rules route makes none.
    from core.bus.messages import LlmUsage

log = logging.getLogger("quantdesk.llm")
UsageListener = Callable[["LlmUsage"], None]
_listeners: list[UsageListener] = []


def on_usage(listener: UsageListener) -> Callable[[], None]:
    """Call `listener` after every LLM call in this process; returns what stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


# USD per million tokens (input, output); unknown models are logged at cost 0.
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-mini": (0.40, 1.60)}


class BudgetExceededError(RuntimeError):
    """The run has used its token budget; no further LLM call is made."""


class TokenBudget(BaseCallbackHandler):
    """Counts tokens across a run's calls; refuses the next call once the budget is spent."""

    raise_error = True

    def __init__(
        self, budget: int, model: str, prompt_version: str, request_budget: int | None = None
    ) -> None:
        self.budget = budget
        self.request_budget = request_budget
        self._request_start = 0
        self.used = 0
        self.calls = 0
        self.cost_usd = 0.0
        self.model = model
        self.prompt_version = prompt_version
        self._started: dict[UUID, float] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID, **kw: Any
    ) -> None:
        from core.telemetry import LLM_BUDGET_SPENT

        if self.used >= self.budget:
            LLM_BUDGET_SPENT.labels(self.model, "run").inc()
            log.error("llm run token budget of %d spent: the rules decide", self.budget)
            raise BudgetExceededError(f"token budget of {self.budget} spent ({self.used} used)")
        spent = self.used - self._request_start
        if self.request_budget is not None and spent >= self.request_budget:
            LLM_BUDGET_SPENT.labels(self.model, "request").inc()
            log.error("llm request token budget of %d spent", self.request_budget)
            raise BudgetExceededError(
                f"request token budget of {self.request_budget} spent ({spent} used)"
            )
        self._started[run_id] = time.perf_counter()

    def start_request(self) -> None:
        """A new request: its own `request_budget` starts afresh; the run's keeps counting."""
        self._request_start = self.used

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kw: Any) -> None:
        from core.bus.messages import LlmUsage
        from core.telemetry import LLM_COST, LLM_TOKENS

        usage = (response.llm_output or {}).get("token_usage") or {}
        prompt, completion = (
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
        )
        self.used += prompt + completion
        self.calls += 1
        price_in, price_out = PRICES.get(self.model, (0.0, 0.0))
        latency = time.perf_counter() - self._started.pop(run_id, time.perf_counter())
        cost = (prompt * price_in + completion * price_out) / 1e6
        self.cost_usd += cost
        LLM_TOKENS.labels(self.model, "prompt").inc(prompt)
        LLM_TOKENS.labels(self.model, "completion").inc(completion)
        LLM_COST.labels(self.model).inc(cost)
        log.info(
            "llm call",
            extra={
                "prompt_version": self.prompt_version,
                "model": self.model,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "latency_ms": round(latency * 1000, 1),
                "cost_usd": round(cost, 6),
                "budget_left": self.budget - self.used,
            },
        )
        usage_event = LlmUsage(
            model=self.model[:120], prompt_version=self.prompt_version[:120],
            prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost,
            latency_ms=latency * 1000,
        )  # fmt: skip
        for listener in list(_listeners):
            try:
                listener(usage_event)
            except Exception:
                log.exception("an LLM usage listener failed")
