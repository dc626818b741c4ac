"""The names people give the desk's instruments: tickers, common names, and their common
misspellings ("etherium", "bitcon", "googel"), read as one edit away from a common name of
six letters or more. Shorter names must be exact, so "either" is never ether."""

from __future__ import annotations

import re
from functools import cache

# Common names of instruments, by the ticker the desk writes.
ALIASES: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "bitcoins", "xbt", "btc"),
    "ETH": ("ether", "ethereum", "eth"),
    "GOOG": ("google", "alphabet", "goog", "googl"),
    "LTC": ("litecoin", "ltc"),
    "SOL": ("solana", "sol"),
    "EUR/USD": ("eurusd", "eur/usd", "euro"),
}
_FUZZY_MIN = 6
_WORD = re.compile(r"(?<![\w/])[a-z][a-z/]*(?![\w])")


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by one insertion, deletion, substitution or swap of
    neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _near(base: str, word: str) -> bool:
    return any(
        len(n) >= _FUZZY_MIN and _one_edit(word, n) for n in {base.lower(), *ALIASES.get(base, ())}
    )


def _dropped_letter(word: str, base: str) -> bool:
    names = {base.lower(), *ALIASES.get(base, ())}
    return any(len(n) == len(word) + 1 and _one_edit(word, n) for n in names)


@cache
def misspelt(word: str) -> str | None:
    """The one instrument a misspelt `word` names. A word one edit from two ("litcoin":
    litecoin and bitcoin) names the one it drops a letter of, the commonest slip of the
    keys; otherwise neither."""
    if len(word) < _FUZZY_MIN:
        return None
    near = [base for base in ALIASES if _near(base, word)]
    if len(near) > 1:
        near = [base for base in near if _dropped_letter(word, base)]
    return near[0] if len(near) == 1 else None


def _names_word(base: str, word: str) -> bool:
    names = {base.lower(), *ALIASES.get(base, ())}
    return word in names or misspelt(word) == base


def names_base(base: str, text: str) -> bool:
    """Whether `text` names the instrument `base` (BTC, GOOG, EUR/USD)."""
    return bool(mentions(base, text))


def mentions(base: str, text: str) -> list[tuple[int, int]]:
    """Where `text` names `base`: (start, end) of each mention, in order."""
    lowered = text.lower()
    names = sorted({base.lower(), *ALIASES.get(base, ())}, key=len, reverse=True)
    exact = "|".join(re.escape(n) for n in names)
    found = [m.span() for m in re.finditer(rf"(?<![\w/])(?:{exact})(?![\w])", lowered)]
    found += [
        m.span()
        for m in _WORD.finditer(lowered)
        if m.group(0) not in names and _names_word(base, m.group(0))
    ]
    return sorted(found)


def named_bases(text: str) -> list[str]:
    """The desk-known instruments `text` names by common name, in the order written."""
    hits = [(found[0][0], base) for base in ALIASES if (found := mentions(base, text))]
    return [base for _, base in sorted(hits)]
