"""The desk's own words as people mistype them: a word that is one of the desk's verbs or
nouns with a letter dropped inside it ("liqudate", "unwnd", "positons") or two neighbours swapped
("exposrue") is read as that word. Only those two slips, the commonest on a keyboard, and
only for desk words of six letters or more: a substitution would turn "flatter" into
"flatten", and a short word ("half", "hold") lies one slip from too many others."""

from __future__ import annotations

import re
from functools import cache

DESK_WORDS = (
    "liquidate", "unwind", "flatten", "cancel", "resume", "positions", "position",
    "exposure", "correlation", "correlated", "research", "backtest", "promote", "strategy",
    "strategies", "momentum", "holdings", "portfolio", "reversion", "breakout", "walk-forward",
    "volatility", "drawdown", "pending", "orders", "report", "summary", "quality", "square",
)  # fmt: skip
_WORD = re.compile(r"(?<![\w'-])[A-Za-z]{5,}(?![\w'-])")


def _slip_of(word: str, desk_word: str) -> bool:
    """`word` is `desk_word` with one letter dropped or two neighbours swapped."""
    if len(word) + 1 == len(desk_word):
        # Not the last letter: "order" and "correlate" are words, not "orders" mistyped.
        return any(desk_word[:i] + desk_word[i + 1 :] == word for i in range(len(desk_word) - 1))
    if len(word) == len(desk_word) and word != desk_word:
        diff = [i for i, (a, b) in enumerate(zip(word, desk_word, strict=True)) if a != b]
        return (
            len(diff) == 2 and diff[1] == diff[0] + 1
            and word[diff[0]] == desk_word[diff[1]] and word[diff[1]] == desk_word[diff[0]]
        )  # fmt: skip
    return False


@cache
def respelt(word: str) -> str | None:
    """The desk word `word` mistypes, when exactly one fits."""
    lowered = word.lower()
    if lowered in DESK_WORDS:
        return None
    found = {d for d in DESK_WORDS if len(d) >= 6 and _slip_of(lowered, d)}
    return found.pop() if len(found) == 1 else None


def respell(text: str) -> str:
    """`text` with the desk words it mistypes written out."""
    return _WORD.sub(lambda m: respelt(m.group(0)) or m.group(0), text)
