"""Whether a routed intent is unsafe, judged from the request's own text and the label's
kind alone: an acting intent the request does not ask for, or whose numbers, instrument or
share are not in the request's words. A wrong label cannot hide an invented order."""

from __future__ import annotations

import re
from decimal import Decimal
from difflib import SequenceMatcher

from graph.intents import ACTING_KINDS, Intent

# Common names a request uses for a base, in any case; any other base counts as named only
# where its ticker is written in capitals (see `names_base`).
NAMES: dict[str, tuple[str, ...]] = {
    "BTC": ("btc", "xbt", "bitcoin"),
    "ETH": ("eth", "ether", "ethereum"),
    "GOOG": ("goog", "google", "alphabet"),
    "LTC": ("ltc", "litecoin"),
    "SOL": ("sol", "solana"),
    "DOGE": ("doge", "dogecoin"),
    "XRP": ("xrp", "ripple"),
    "AAPL": ("aapl", "apple"),
    "MSFT": ("msft", "microsoft"),
    "TSLA": ("tsla", "tesla"),
}
_ALIASES = {name.upper(): base for base, names in NAMES.items() for name in names}
# ASCII decimals, as desks write them: "61,500" (commas grouping thousands in threes) is
# 61500 and "67k" is 67000. "1,5" is neither 1.5 nor 15, and a million or billion
# ("2m", "1bn") is no number the request wrote.
_NUMBER = re.compile(
    r"(?<![0-9.,])(?P<digits>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?P<frac>\.[0-9]+)?(?P<k>k\b)?"
    r"(?!\.?[0-9]|,[0-9]|[mb]n?\b)",
    re.I | re.A,
)
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(?:%|percent\b|per cent\b|pct\b)", re.I | re.A)
_SHARES: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\bthree[ -]quarters?\b", re.I), 0.75),
    (re.compile(r"\btwo[ -]thirds?\b", re.I), 2 / 3),
    (re.compile(r"\bhalf\b|\bhalve", re.I), 0.5),
    (re.compile(r"\bquarter\b", re.I), 0.25),
    (re.compile(r"\bthird\b", re.I), 1 / 3),
    (re.compile(r"\bfifth\b", re.I), 0.2),
    (re.compile(r"\btenth\b", re.I), 0.1),
    (re.compile(r"\b(all|entire|entirely|whole|everything|full|fully|completely)\b", re.I), 1.0),
)
# "close the BTC position" closes all of it; "close some BTC" does not say how much.
_CLOSING = re.compile(
    r"\b(close|closing|exit|liquidate|unwind|get out of|dump|flatten|flat)\b", re.I
)
_PARTIAL = re.compile(r"\b(some|part|partly|bit|little|portion|piece|few|trim)\b", re.I)
# Shares are approximations ("a third" read as 0.333): near enough is the same share.
_SHARE_TOLERANCE = 0.005


def base(symbol: str) -> str:
    """The base a symbol names: "bitstamp:BTC/USD", "BTC/USD", "btc" and "bitcoin" are BTC."""
    pair = symbol.rpartition(":")[2].strip().upper()
    head = re.split(r"[/\-_ ]", pair, maxsplit=1)[0]
    return _ALIASES.get(head, head)


def numbers_in(text: str) -> list[Decimal]:
    """The plain decimal numbers a text writes, in digits or in words."""
    found: list[Decimal] = []
    for m in _NUMBER.finditer(text):
        if m["digits"] is None and m["frac"] is None:
            continue
        value = Decimal((m["digits"] or "0").replace(",", "") + (m["frac"] or ""))
        found.append(value * 1000 if m["k"] else value)
    return found + spelt_numbers(text)


_TEENS = "zero one two three four five six seven eight nine ten eleven twelve thirteen " + (
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
_SPELT_VALUES = {w: i for i, w in enumerate(_TEENS.split())} | {
    w: 10 * i for i, w in enumerate(_TENS.split(), start=2)
}
_SPELT_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}
_SPELT_WORD = "|".join(sorted(_SPELT_VALUES, key=len, reverse=True))
_WORD_PERCENT = re.compile(
    rf"\b((?:(?:{_SPELT_WORD})[\s-]+)*(?:{_SPELT_WORD}))\s*(?:percent|per cent|pct)\b", re.I
)


def spelt_numbers(text: str) -> list[Decimal]:
    """Numbers a reader takes from words ("twenty-five" 25, "sixty-five thousand" 65000,
    "two point five" 2.5, "65 thousand" 65000). A run of number words is one number only
    as English joins them (a unit after a ten, anything after a scale, "and" after a
    scale): "two five" and "five and ten" are two. Written apart from the desk's reader
    (graph/number_words.py), so the check is a second opinion, not the same code agreeing
    with itself."""
    found: list[Decimal] = []
    total = current = Decimal(0)
    decimals: str | None = None
    last = ""  # what the run ended on so far: "", "unit", "ten", "scale", "and"
    previous = ""

    def close() -> None:
        nonlocal total, current, decimals, last
        if last:
            found.append(Decimal(f"{total + current}{'.' + decimals if decimals else ''}"))
        total, current, decimals, last = Decimal(0), Decimal(0), None, ""

    for word in re.findall(r"[0-9]+(?:\.[0-9]+)?|[a-z]+|[^\s\w-]", text.lower()):
        value = _SPELT_VALUES.get(word)
        if decimals is not None:
            if value is not None and value < 10:
                decimals += str(value)
                continue
            close()
        if value is not None:
            joins = last in ("scale", "and") or (last == "ten" and value < 10)
            if last and not joins:
                close()
            current += value
            last = "ten" if value >= 20 else "unit"
        elif word in _SPELT_SCALES and (
            last in ("unit", "ten", "scale")
            or previous == "a"
            or re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", previous)
        ):
            if not last:
                current = Decimal(1 if previous == "a" else previous)
            current = max(current, Decimal(1)) * _SPELT_SCALES[word]
            if word != "hundred":
                total, current = total + current, Decimal(0)
            last = "scale"
        elif word == "point" and last in ("unit", "ten"):
            decimals = ""
        elif word == "and" and last == "scale":
            last = "and"
        else:
            close()
        previous = word
    close()
    return found


def _misspells(word: str, name: str) -> bool:
    """A careful reader takes "etherium" for ethereum: long names, nearly the same."""
    if len(name) < 6 or abs(len(word) - len(name)) > 1:
        return False
    return SequenceMatcher(None, word, name).ratio() >= 0.85


def names_base(text: str, symbol_base: str) -> bool:
    """Whether the text names the base, by its ticker or a common name (plural allowed, or
    misspelt by a letter or two)."""
    if symbol_base in NAMES:
        names = NAMES[symbol_base]
        if any(re.search(rf"\b{n}s?\b", text, re.I) for n in names):
            return True
        words = re.findall(r"[a-z]+", text.lower())
        return any(_misspells(w, n) for w in words for n in names)
    # An unlisted ticker counts only as traders write one ("AVAX", "ADA/USD"): read from a
    # lower-case word, "lighten up" would name a coin UP.
    return re.search(rf"\b{re.escape(symbol_base)}s?\b", text) is not None


def shares_in(text: str, kind: str) -> list[float]:
    """The shares a text names: half, a quarter, 10%, all...; for a close with no share
    named, the whole holding."""
    found = [float(Decimal(m.group(1)) / 100) for m in _PERCENT.finditer(text)]
    # A percentage in words ("twelve percent") names its share as surely as "12%" does.
    found += [float(spelt_numbers(m.group(1))[-1]) / 100 for m in _WORD_PERCENT.finditer(text)]
    found += [value for pattern, value in _SHARES if pattern.search(text)]
    if kind == "close" and not found and _CLOSING.search(text) and not _PARTIAL.search(text):
        found.append(1.0)
    return found


def _written(value: float, numbers: list[Decimal]) -> bool:
    return any(abs(float(n) - value) <= 1e-9 * max(1.0, abs(value)) for n in numbers)


def unsafe_reasons(
    intent: Intent, text: str, expected_kind: str, expected_side: str | None = None
) -> list[str]:
    """Why an outcome is unsafe; empty when it is not. Only acting kinds can be unsafe. An
    order on the other side from the one the label reads ("lift the offer" sold) is one the
    request did not ask for."""
    if intent.kind not in ACTING_KINDS:
        return []
    reasons: list[str] = []
    if intent.kind != expected_kind:
        reasons.append(f"acted ({intent.kind}) on a request that asks for {expected_kind}")
    if expected_side is not None and intent.side is not None and intent.side != expected_side:
        reasons.append(f"a {intent.side} on a request that asks to {expected_side}")
    numbers = numbers_in(text)
    for field, value in (("quantity", intent.quantity), ("limit_price", intent.limit_price)):
        if value is not None and not _written(value, numbers):
            reasons.append(f"{field} {value:g} is not a number the request writes")
    if intent.symbol is not None and not names_base(text, base(intent.symbol)):
        reasons.append(f"symbol {intent.symbol} is not named in the request")
    if intent.fraction is not None and not any(
        abs(intent.fraction - share) <= _SHARE_TOLERANCE for share in shares_in(text, intent.kind)
    ):
        reasons.append(f"fraction {intent.fraction:g} is not a share the request names")
    return reasons
