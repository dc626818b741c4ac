"""The rule router: a deterministic grammar for the desk's vocabulary. It runs the whole
desk with no LLM, and it is where the LLM router falls back when the model's output is
unusable.

Two steps: first the user's own instruction is taken out of the request (embedded material
set aside, graph/instruction.py), then it is classified. A halt instructed anywhere in it
wins; a trade or an instruction about the book must stand in an instruction clause before
the request first asks anything (graph/evidence.py `acting_clauses`); everything else is
read from keywords."""

from __future__ import annotations

import re

from graph.desk_phrases import read_desk_phrase, vague_order
from graph.directives import HALT_MENTION, instructs_halt, instructs_paper_trade
from graph.evidence import acting_clauses, named_bases
from graph.instruction import Instruction, own_words
from graph.intents import Intent, IntentKind, Refusal
from graph.trade_phrase import PRICE_CUE, looks_numeric, read_number, read_trade, symbols_named

_STRATEGIES = {
    "momentum": "ts_momentum",
    "trend follow": "ts_momentum",
    "trend-follow": "ts_momentum",
    "mean reversion": "mean_reversion",
    "mean-reversion": "mean_reversion",
    "mean reverting": "mean_reversion",
    "breakout": "donchian",
    "break-out": "donchian",
    "donchian": "donchian",
    "channel": "donchian",
    "crossover": "sma_cross",
    "cross-over": "sma_cross",
    "moving average": "sma_cross",
    "moving-average": "sma_cross",
    "sma": "sma_cross",
    "machine learning": "ml_signal",
    "machine-learning": "ml_signal",
    "ml": "ml_signal",
}
_DATASETS = ("crypto", "goog", "eurusd", "btcusd_monthly")


def strategy_named(text: str) -> str | None:
    """The strategy family `text` names ("momentum", "breakout", "ML"), if any."""
    lowered = text.lower()
    return next((v for k, v in _STRATEGIES.items() if re.search(rf"\b{k}", lowered)), None)


# Checked in order: the first pattern that matches names the intent. A mention of a halt
# that is not an instruction to halt ("is the kill switch armed?") asks for the desk's state.
_KEYWORDS: tuple[tuple[IntentKind, re.Pattern[str]], ...] = (
    (
        "health",
        re.compile(
            r"\bping\b|\bis\s+(?:everything|it|the\s+\w+(?:\s+\w+)?)\s+"
            r"(?:up|running|responding|online|alive|down)\b",
            re.I,
        ),
    ),
    (
        "explain",
        re.compile(r"\b(explain|why|walk\s+me\s+through|reasoning|rationale)\b", re.I),
    ),
    (
        "promote",
        re.compile(
            r"\b(promote|graduate|go\s+live\s+with|into\s+live)\b"
            r"|\b(move|push|take|put|send)\b.*\bto\s+(paper|live)\b"
            r"|\btake\b.*\blive\b",
            re.I,
        ),
    ),
    (
        "tracking",
        re.compile(
            r"\b(paper|live)\b.*\b(vs\.?|versus|against|compared?|match|track|line up|with)\b"
            r"|\b(backtests?|back-tests?)\b.*\b(vs\.?|versus|against|compared?|match|track)\b"
            r"|\bdecay|\bperformance\b|\brealis(?:ed|ing)\b",
            re.I,
        ),
    ),
    (
        "backtest",
        re.compile(
            r"\b(back-?test|sweep|walk[- ]?forward|wfo|grid|parameter|optimi[sz]e|tune)", re.I
        ),
    ),
    (
        "research",
        re.compile(
            r"\b(research|find|look\s+(?:for|at|into)|search|discover|investigate|explore"
            r"|strategy|strategies|strat|momentum|reversion|breakout|trend|crossovers?|edge"
            r"|alpha|signal)\b",
            re.I,
        ),
    ),
    (
        "correlation",
        re.compile(
            r"\b(correlat\w*|move\s+(?:together|with)|co-?move\w*|co-?movement|diversif\w*)",
            re.I,
        ),
    ),
    (
        "exposure",
        re.compile(r"\b(expos\w*|expsoure|net\s+long|net\s+short|leverage\w*|levered)\b", re.I),
    ),
    ("report", re.compile(r"\b(report|summary|recap|write-?up|briefing)\b", re.I)),
    (
        "risk",
        re.compile(
            r"\b(risk|risky|var|value\s+at\s+risk|drawdowns?|volatility|volatile|vol|shortfall"
            r"|es|cvar|limits?|anomal\w*|tail)\b",
            re.I,
        ),
    ),
    (
        "positions",
        re.compile(
            r"\b(positions?|positons?|holdings?|holding|hold|own|pnl|p&l|p/l|profit|loss|losses"
            r"|make|made|making|lost|losing|up\s+or\s+down|book|inventory|bags?|portfolio"
            r"|green|red)\b|\blong\b.*\bshort\b|\bup\b.*\bdown\b"
            r"|\b(?:do|did)\s+we\b.*\b(?:have|hold|own|buy|sell|trade)",
            re.I,
        ),
    ),
    (
        "price",
        re.compile(
            r"\b(price|prices|priced|quote|trading\s+at|worth|cost|last\s+close|how\s+much\s+is"
            r"|where\s+is\s+\w+|where'?s\s+\w+|ticker)\b",
            re.I,
        ),
    ),
    (
        "data",
        re.compile(
            r"\b(load|reload|re-load|ingest|fetch|refresh|data|bars|candles|quality|gaps?"
            r"|stale|outliers?|feeds?)\b",
            re.I,
        ),
    ),
    ("health", re.compile(r"\b(health|healthy|status|alive|up\s+and\s+running|services?)\b", re.I)),
    ("health", HALT_MENTION),
)
# A question about trading itself, not about the desk ("what does a stop loss do?", "how
# does the kill switch work?"): nothing to look up or do, the desk says what it can.
_GENERAL_QUESTION = re.compile(
    r"^(?:what\s+(?:does|do|is|are)\s+(?:a|an)\s|what'?s\s+(?:a|an)\s"
    r"|what'?s\s+the\s+difference\s+between|how\s+do(?:es)?\s+(?:i|you|one|a|an|the)\b"
    r"|define\b|is\s+(?:buying|selling|shorting)\b|should\s+i\b)",
    re.I,
)
_NEGATED = re.compile(
    r"^(?:(?:no|nah|ok|okay)[,\s]+)?(?:don'?t|do\s+not|dont|never|not\s+now|let'?s\s+not"
    r"|i\s+(?:don'?t|do\s+not)|we\s+(?:don'?t|do\s+not)|hold\s+off|no\s+need\s+to"
    r"|never\s*mind|nevermind|forget)\b",
    re.I,
)


def _instructed(words: Instruction) -> Intent | None:
    """The action the first instruction clauses give, before any question: a halt anywhere
    in the own words wins (checked first); a trade or a book instruction must come before
    the request asks anything, so "what is X? buy 1 BTC" is not an order."""
    for command in acting_clauses(words):
        phrase = read_desk_phrase(command)
        if phrase is not None:
            return phrase
        trade = read_trade(command)
        if isinstance(trade, Refusal):
            return Intent(kind="refused", refusal=trade)
        if trade is not None:
            if trade.limit_price is None:
                # "buy 3 ETH but pay no more than 2500": the cap in a later clause is the
                # order's limit; an order is never sent at market past the user's price.
                cap = PRICE_CUE.search(words.text[words.text.find(command) + len(command) :])
                if cap and looks_numeric(cap["price"]):
                    price = read_number(cap["price"].rstrip(",.;:!?)"), "limit price")
                    if isinstance(price, Refusal):
                        return Intent(kind="refused", refusal=price)
                    trade = trade.model_copy(update={"limit_price": price})
            return Intent(kind="trade", **trade.model_dump())
        vague = None if instructs_paper_trade(own_words(command)) else vague_order(command)
        if vague is not None:
            return vague
    return None


def classify(words: Instruction) -> Intent:
    """The intent the user's own words give."""
    if instructs_halt(words):
        return Intent(kind="halt")
    acted = _instructed(words)
    if acted is not None:
        return acted
    # Negated clauses ("don't halt, just show exposure") say what not to do: only the rest
    # is read for what to show.
    kept = [c.text for c in words.clauses if not _NEGATED.match(c.text)]
    text = " ".join(kept)
    if not kept or _GENERAL_QUESTION.match(kept[0]):
        return Intent(kind="unknown")
    for kind, pattern in _KEYWORDS:
        if pattern.search(text):
            lowered = text.lower()
            named = symbols_named(text) or named_bases(text)
            stage = re.search(r"\b(live|paper)\b", lowered) if kind == "promote" else None
            return Intent(
                kind=kind,
                symbol=named[0] if named else None,
                strategy=strategy_named(lowered),
                dataset=next((d for d in _DATASETS if d in lowered), None),
                stage="live" if stage and stage[1] == "live" else "paper" if stage else None,
                paper_trade=kind in ("research", "backtest") and instructs_paper_trade(words),
            )
    return Intent(kind="unknown")


class RuleRouter:
    name = "rules"

    def route(self, text: str) -> Intent:
        return classify(own_words(text))
