"""Numbers as people spell them, written in digits before the desk reads a request:
"twenty-five" 25, "sixty-five thousand" 65000, "two point five" 2.5, "65 thousand" 65000.
The grammar (graph/numbers.py) and the guard's evidence then see the same number, so "buy
twenty-five LTC" is an order for 25 and a model that reads 25 there has read what was
written. A number with its point first (".5") stays the grammar's to refuse.

Left in words, on purpose: "zero" ("unwind to zero" is a phrase of the desk's), a lone
"one" ("one of our positions", "no one") and "a"/"an" ("a hundred" is 100, "a BTC" is
not a number), and a number before a fraction ("two-thirds", "three quarters"), which the
share words read."""

from __future__ import annotations

import re
from decimal import Decimal

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_UNITS = {w: i for i, w in enumerate(_ONES.split(" "))}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), start=2
    )
}
_SCALES = {"hundred": 100, "thousand": 1_000, "grand": 1_000, "million": 1_000_000}
_SMALL = "|".join(sorted([*(w for w in _UNITS if w != "zero"), *_TENS], key=len, reverse=True))
_SCALE = "|".join(_SCALES)
_WORD = rf"(?:{_SMALL}|{_SCALE})"
_FRACTION_AFTER = r"(?:[\s-]+(?:halves|thirds?|quarters?|fifths?|sixths?|eighths?|tenths?))"
_AND = r"(?:(?<=hundred)|(?<=thousand)|(?<=grand)|(?<=million))\s+and\s+"
# A run of number words joined by spaces or hyphens ("and" only after a scale: "five and
# ten" are two numbers), then "point" and its digits.
_SPELT = re.compile(
    rf"(?<![\w-])(?:a\s+(?:{_SCALE})|{_SMALL})(?:(?:[\s-]+|{_AND}){_WORD})*"
    rf"(?:\s+point(?:\s+(?:{_SMALL}|zero))+)?(?![\w-]){_FRACTION_AFTER}?",
    re.I,
)
_DIGITS_SCALE = re.compile(rf"(?<![\w.,])([0-9]+(?:\.[0-9]+)?)\s+({_SCALE})\b", re.I)


def _value(words: list[str]) -> Decimal | None:
    total, current = 0, 0
    for word in words:
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
    return Decimal(total + current)


def _spelt(match: re.Match[str]) -> str:
    text = match.group(0)
    lowered = text.lower()
    if re.search(_FRACTION_AFTER + "$", lowered):
        return text  # "two-thirds": a share, read by the share words
    whole, _, decimals = lowered.partition(" point")
    words = [w for w in re.split(r"[\s-]+", whole) if w and w not in ("and", "a")]
    if words == ["one"] and not decimals:
        return text
    value = _value(words)
    if value is None:
        return text
    digits = "".join(str(_UNITS[w]) for w in decimals.split())
    return f"{value}.{digits}" if digits else str(value)


def digits_for_words(text: str) -> str:
    """`text` with its spelt numbers written in digits."""
    return _DIGITS_SCALE.sub(
        lambda m: format((Decimal(m.group(1)) * _SCALES[m.group(2).lower()]).normalize(), "f"),
        _SPELT.sub(_spelt, text),
    )
