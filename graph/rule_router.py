"""The rule router: a deterministic grammar for the desk's vocabulary. It runs the whole
desk with no LLM, and it is where the LLM router falls back when the model's output is
unusable.

Two steps: first the user's own instruction is taken out of the request (embedded material
set aside, graph/instruction.py), then it is classified. A halt instructed anywhere in it
wins; a trade must open it; everything else is read from keywords."""

from __future__ import annotations

import re

from graph.directives import HALT_MENTION, instructs_halt, instructs_paper_trade, opening_trade
from graph.instruction import Instruction, own_words
from graph.intents import Intent, IntentKind, Refusal
from graph.trade_phrase import symbols_named

_STRATEGIES = {
    "momentum": "ts_momentum",
    "mean reversion": "mean_reversion",
    "mean-reversion": "mean_reversion",
    "breakout": "donchian",
    "donchian": "donchian",
    "crossover": "sma_cross",
    "sma": "sma_cross",
    "ml": "ml_signal",
}
_DATASETS = ("crypto", "goog", "eurusd", "btcusd_monthly")
# Checked in order: the first pattern that matches names the intent. A mention of a halt
# that is not an instruction to halt ("is the kill switch armed?") asks for the desk's state.
_KEYWORDS: tuple[tuple[IntentKind, re.Pattern[str]], ...] = (
    ("explain", re.compile(r"\b(explain|why)\b", re.I)),
    ("backtest", re.compile(r"\bback-?test", re.I)),
    (
        "research",
        re.compile(r"\b(research|find|strategy|strategies|momentum|reversion|breakout)\b", re.I),
    ),
    ("exposure", re.compile(r"\bexposures?\b", re.I)),
    ("positions", re.compile(r"\b(positions?|holdings?|pnl|p&l)\b", re.I)),
    ("risk", re.compile(r"\b(risk|var|drawdown|volatility)\b", re.I)),
    ("report", re.compile(r"\breport\b", re.I)),
    ("data", re.compile(r"\b(load|ingest|fetch|data)\b", re.I)),
    ("health", re.compile(r"\b(health|status|alive)\b", re.I)),
    ("health", HALT_MENTION),
)


def classify(words: Instruction) -> Intent:
    """The intent the user's own words give."""
    if instructs_halt(words):
        return Intent(kind="halt")
    trade = opening_trade(words)
    if isinstance(trade, Refusal):
        return Intent(kind="refused", refusal=trade)
    if trade is not None:
        return Intent(kind="trade", **trade.model_dump())
    text = words.text
    for kind, pattern in _KEYWORDS:
        if pattern.search(text):
            lowered = text.lower()
            named = symbols_named(text)
            return Intent(
                kind=kind,
                symbol=named[0] if named else None,
                strategy=next((v for k, v in _STRATEGIES.items() if k in lowered), None),
                dataset=next((d for d in _DATASETS if d in lowered), None),
                paper_trade=kind in ("research", "backtest") and instructs_paper_trade(words),
            )
    return Intent(kind="unknown")


class RuleRouter:
    name = "rules"

    def route(self, text: str) -> Intent:
        return classify(own_words(text))
