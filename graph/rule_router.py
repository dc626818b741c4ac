"""The rule router: a deterministic grammar for the desk's vocabulary. It runs the whole
desk with no LLM, and it is where the LLM router falls back when the model's output is
unusable."""

from __future__ import annotations

import re

from graph.intents import Intent, IntentKind

_NUMBER = r"(\d+(?:\.\d+)?)"
# A trade is an instruction: it opens the request (after a polite lead-in). A trade phrase
# buried later in the text (a quoted comment, an injected line) is not an order.
_TRADE = re.compile(
    r"^\s*(?:please\s+|now\s+|ok\s+|go ahead and\s+|can you\s+|i want to\s+|i'd like to\s+)?"
    rf"(?P<side>buy|sell)\s+(?P<qty>{_NUMBER})\s+(?P<symbol>[a-z][a-z0-9/._-]*)"
    rf"(?:\s+(?:at|@)\s+(?P<price>{_NUMBER}))?",
    re.IGNORECASE,
)
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
# Checked in order: the first pattern that matches names the intent.
_KEYWORDS: tuple[tuple[IntentKind, re.Pattern[str]], ...] = (
    ("halt", re.compile(r"\b(halt|kill switch|kill|stop trading|stop everything)\b", re.I)),
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
)
_SYMBOL = re.compile(r"\b(btc|eth|ltc|goog|eur/?usd)\b", re.I)


def _symbol(text: str) -> str | None:
    found = _SYMBOL.search(text)
    return found.group(1).upper().replace("EURUSD", "EUR/USD") if found else None


class RuleRouter:
    name = "rules"

    def route(self, text: str) -> Intent:
        trade = _TRADE.search(text)
        halt = _KEYWORDS[0][1].search(text)
        if trade and not halt:
            return Intent(
                kind="trade",
                side="buy" if trade.group("side").lower() == "buy" else "sell",
                quantity=float(trade.group("qty")),
                symbol=trade.group("symbol").upper(),
                limit_price=float(trade.group("price")) if trade.group("price") else None,
            )
        for kind, pattern in _KEYWORDS:
            if pattern.search(text):
                lowered = text.lower()
                strategy = next((v for k, v in _STRATEGIES.items() if k in lowered), None)
                dataset = next((d for d in _DATASETS if d in lowered), None)
                return Intent(
                    kind=kind,
                    symbol=_symbol(text),
                    strategy=strategy,
                    dataset=dataset,
                    paper_trade=bool(re.search(r"paper[- ]?trade|and trade|go live", text, re.I)),
                )
        return Intent(kind="unknown")
