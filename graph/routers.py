"""Which router runs: the rule router with no LLM configured, else the LLM router with the
rules as its fallback."""

from __future__ import annotations

from core.llm.local_server import with_local_model
from core.settings import Settings
from graph.intents import RouterName
from graph.rule_router import RuleRouter
from graph.supervisor import Router


def make_router(settings: Settings) -> Router:
    """The LLM router when a model is configured or the local model server runs (see
    `with_local_model`), else the rule router."""
    settings = with_local_model(settings)
    if settings.llm_base_url is None:
        return RuleRouter()
    from graph.llm_router import LlmRouter

    return LlmRouter(settings, fallback=RuleRouter())


def pick_router(name: RouterName | None, settings: Settings) -> Router:
    """The router a caller asked for: `rules` always works; `llm` needs a configured model
    (ValueError saying how to configure one); None: whatever the settings give."""
    if name is None:
        return make_router(settings)
    if name == "rules":
        return RuleRouter()
    settings = with_local_model(settings)
    if settings.llm_base_url is None:
        raise ValueError(
            "--router llm needs a model: start the local one with `quantdesk llm serve`, or "
            "set QUANTDESK_LLM_BASE_URL (and _MODEL)"
        )
    return make_router(settings)
