"""Which router runs: the rule router with no LLM configured, else the LLM router with the
rules as its fallback."""

from __future__ import annotations

from core.settings import Settings
from graph.rule_router import RuleRouter
from graph.supervisor import Router


def make_router(settings: Settings) -> Router:
    if settings.llm_base_url is None:
        return RuleRouter()
    from graph.llm_router import LlmRouter

    return LlmRouter(settings, fallback=RuleRouter())
