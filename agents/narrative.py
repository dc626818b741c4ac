"""The report's summary: written by the configured LLM when there is one, checked to be
grounded (every number in it must be one of the figures it was given), else a template."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from uuid import uuid4

from langchain_core.messages import HumanMessage, SystemMessage

import prompts
from agents.results import Results, proposal_of
from core.llm.budget import TokenBudget
from core.llm.client import chat_model
from core.settings import Settings

log = logging.getLogger(__name__)
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
MAX_CHARS = 1_200


def facts(results: Results, performance: list[dict[str, Any]]) -> dict[str, str]:
    """The figures a summary may quote, formatted as the report prints them."""
    view = results.get("risk", {}).get("view", {})
    health = results.get("monitor", {})
    out = {
        "equity": f"{view.get('equity', 0):,.2f}",
        "gross_exposure": f"{view.get('gross_exposure', 0):,.2f}",
        "net_exposure": f"{view.get('net_exposure', 0):,.2f}",
        "var_95": f"{view.get('var_95', 0):,.2f}",
        "trading_state": str(view.get("trading_state", "unknown")),
        "open_positions": str(sum(1 for p in view.get("positions", []) if p["quantity"])),
        "stale_traded_series": ", ".join(health.get("stale_traded_series", [])) or "none",
    }
    research = proposal_of(results)
    if research:
        out["research"] = (
            f"{research.get('instrument')} {research.get('strategy', {}).get('kind')}, "
            f"out-of-sample Sharpe {research.get('oos_sharpe', 0):.2f}"
        )
    for row in performance:
        out[f"pnl_{row['strategy']}"] = f"{row['pnl']:,.2f}"
    return out


def template(f: dict[str, str]) -> str:
    text = (
        f"Equity is {f['equity']} with gross exposure {f['gross_exposure']} and net "
        f"{f['net_exposure']}; trading state {f['trading_state']}, {f['open_positions']} open "
        f"position(s), VaR95 {f['var_95']}."
    )
    if "research" in f:
        text += f" Research: {f['research']}."
    if f["stale_traded_series"] != "none":
        text += f" Stale data on {f['stale_traded_series']}."
    return text


def _bare(number: str) -> str:
    return number.rstrip(",.%")


def ungrounded(text: str, f: dict[str, str]) -> list[str]:
    """Numbers in `text` that are not, exactly, one of the figures' numbers. A number in a
    figure's name counts too: "VaR 95" or "95%" quotes `var_95`, it invents nothing."""
    named = [n for key in f for n in NUMBER.findall(key.replace("_", " "))]
    allowed = {_bare(n) for v in f.values() for n in NUMBER.findall(v)} | {_bare(n) for n in named}
    return [n for n in NUMBER.findall(text) if _bare(n) not in allowed]


def summary(settings: Settings, f: dict[str, str]) -> tuple[str, str]:
    """(text, who wrote it: the model's name or 'template')."""
    if settings.llm_base_url is None:
        return template(f), "template"
    version, prompt = prompts.load("report")
    try:
        model = chat_model(
            settings, session_id=uuid4().hex, path="/report/summary",
            properties={"prompt-version": version, "agent": "report"}, max_tokens=300,
            callbacks=[TokenBudget(settings.llm_token_budget, settings.llm_model, version)],
        )  # fmt: skip
        text = str(model.invoke([SystemMessage(prompt), HumanMessage(json.dumps(f))]).content)
    except Exception as exc:  # the endpoint failed: the template still tells the truth
        log.warning("report narrative: LLM failed, template used: %s", str(exc)[:200])
        return template(f), "template"
    text = " ".join(text.split())
    invented = ungrounded(text, f)
    if not text or len(text) > MAX_CHARS or invented:
        log.warning("report narrative refused (invented %s); template used", invented[:5])
        return template(f), "template"
    return text, settings.llm_model
