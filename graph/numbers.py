"""How the desk reads a number a person writes: ASCII decimals ("0.5", "61500"), optionally
with thousands grouped by commas in threes ("61,500"), a dollar sign ("$3,100") or a k for
thousands ("67k", "2.5k"), as trading desks write prices; spelt numbers are written in
digits before this reads them (graph/number_words.py). Nothing else is a number here:
a decimal comma ("1,5"), a bad grouping ("1,0000"), an exponent ("1e5"), other scripts'
digits or a sign are refused where a number must stand (graph/trade_phrase.py)."""

from __future__ import annotations

import re
from decimal import Decimal

MAX_DIGITS = 12
_INTEGER = rf"(?:[0-9]{{1,3}}(?:,[0-9]{{3}}){{1,3}}|[0-9]{{1,{MAX_DIGITS}}})"
_FRACTION = rf"(?:\.[0-9]{{1,{MAX_DIGITS}}})?"
_TOKEN = re.compile(rf"\$?(?P<int>{_INTEGER})(?P<frac>{_FRACTION})(?P<k>[kK])?", re.A)
PERCENT_WORD = r"(?:percent|per\s+cent|pct)\b"
"""How a percentage is written after its number besides "%" ("4 per cent", "7 pct")."""
# The same, found in running text: not inside a word, a longer number, a percentage or an
# identifier ("JIRA DESK-221", "ticket #4471").
NUMBER_IN_TEXT = re.compile(
    rf"(?<![\w.,$#])(?<![A-Za-z]-)\$?{_INTEGER}{_FRACTION}[kK]?"
    rf"(?![\w%]|\.[0-9]|,[0-9]|\s*(?i:{PERCENT_WORD}))",
    re.A,
)


def parse_number(token: str) -> Decimal | None:
    """The value `token` writes, or None when it is not a number in the desk's forms."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        return None
    value = Decimal(found["int"].replace(",", "") + found["frac"])
    return value * 1000 if found["k"] else value


def numbers_in_text(text: str) -> set[Decimal]:
    """Every number `text` writes in the desk's forms (not percentages)."""
    found = (parse_number(m.group(0)) for m in NUMBER_IN_TEXT.finditer(text))
    return {n for n in found if n is not None}
