"""LLM access for the desk: any OpenAI-compatible endpoint, optionally through Helicone.

The names load on first use: `quantdesk llm status` and the local server's helpers
(core.llm.local_server) must not pay for langchain-openai at import."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.llm.budget import BudgetExceededError, TokenBudget
    from core.llm.client import chat_model, helicone_headers

__all__ = ["BudgetExceededError", "TokenBudget", "chat_model", "helicone_headers"]
_HOMES = {
    "BudgetExceededError": "core.llm.budget",
    "TokenBudget": "core.llm.budget",
    "chat_model": "core.llm.client",
    "helicone_headers": "core.llm.client",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'core.llm' has no attribute {name!r}")
