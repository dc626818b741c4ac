"""Orders written in another order than the trade grammar's `buy 1 BTC at 3000`:
"for 0.3 BTC, buy", "lift the offer on 1 eth", "stick a bid in for 0.4 BTC, 61,500 limit",
"GOOG short, size it at 5% of capital", "close our ether out completely".

Read from one instructing sentence of the user's own words (before the request asks
anything, not negated), and only when every part has one reading: one side (trader jargon
included: "lift the offer" buys, "hit the bid" sells), one instrument, and either a quantity
written next to the instrument or a share of a named pool (account, equity, capital, fund,
NAV). A price counts only after a price cue ("at", "@", "limit", "or better", "dips to").
Every number in the sentence must have its place; anything left over, or two readings of a
part, and nothing is read: the desk asks back instead of guessing."""

from __future__ import annotations

import re
from decimal import Decimal

from graph.evidence import PERCENT_FORM, POSTED, negated, shares_written, verb_close_only
from graph.instruction import Instruction, is_question
from graph.instrument_names import mentions, named_bases
from graph.intents import Intent
from graph.numbers import NUMBER_IN_TEXT, numbers_in_text, parse_number
from graph.trade_phrase import symbols_named

_NUM = NUMBER_IN_TEXT.pattern  # never the tail of "1,5" or of a word
_JARGON = (
    (re.compile(r"\blift(?:ing)?\s+(?:the\s+)?(?:offers?|ask|offer\s+on)\b", re.I), " buy "),
    (
        re.compile(r"\b(?:hit|whack|smack|slam)(?:ting|ing)?\s+(?:the\s+|a\s+)?bids?\b", re.I),
        " sell ",
    ),
    (re.compile(rf"{POSTED}(?:ask|offer)s?\b", re.I), " sell "),
    (re.compile(rf"{POSTED}bids?\b", re.I), " buy "),
)
_NOT_SIDE = r"(?!\s*/|\s*-\s*term|\s+(?:as|ago|time|term|run|way|of)\b)"
_BUY = re.compile(
    rf"(?<!how\s)(?<!as\s)(?<!so\s)\b(?:buy|buying|purchase|go\s+long|long{_NOT_SIDE}|bid"
    r"|accumulate|pick\s+up|acquire|(?:want|add)(?=\s+\$?[0-9]))\b",
    re.I,
)
_SELL = re.compile(
    rf"(?<!in\s)\b(?:sell|selling|go\s+short|short{_NOT_SIDE}|offer|dump|unload|offload"
    r"|sale\s+of)\b",
    re.I,
)
_ALLOCATE = re.compile(
    r"\b(?:put|allocate|invest|deploy|commit|add|spend|stick|get|move|park)\b", re.I
)
_CLOSE_ALL = re.compile(
    r"\b(?:close(?:\s+out)?|unwind|exit|liquidate|get\s+(?:us\s+)?out\s+of|bail(?:\s+out)?\s+(?:on"
    r"|of))\b",
    re.I,
)
_CLOSE_PART = re.compile(
    r"\b(?:trim|cut|reduce|pare(?:\s+back)?|lighten(?:\s+up)?|bank|take\s+profits?)\b", re.I
)
_PARTIAL = re.compile(r"\b(?:some|part|partly|bit|little|portion|piece)\b", re.I)
_POOL = re.compile(
    rf"{PERCENT_FORM}\s+(?:of\s+)?(?:the\s+|our\s+|my\s+)?"
    r"(?:account|equity|capital|fund|funds|nav|portfolio|book|aum|cash|money)\b",
    re.I | re.A,
)
_PRICE = re.compile(
    rf"(?:(?:^|\s)(?:at|@|limit(?:\s+price)?(?:\s+(?:of|at))?|with\s+a\s+limit(?:\s+price)?\s+of"
    r"|no\s+more\s+than|no\s+less\s+than|at\s+most|at\s+least|price\s*:?"
    r"|nothing\s+(?:below|under|above|over|lower\s+than|higher\s+than|worse\s+than)"
    r"|(?:dips?|drops?|falls?|comes?"
    rf"\s+(?:back\s+)?down|trades?|gets?)\s+(?:back\s+)?to)\s*(?P<cued>{_NUM})"
    rf"|(?P<trailed>{_NUM})\s+(?:limit|or\s+better)\b)",
    re.I | re.A,
)
ONE_ORDER = (
    "I send one order per request, and this one holds more than one: send them one at a "
    "time, e.g. 'buy 0.5 BTC', then 'sell 1 ETH'."
)
ONE_ACTION = (
    "I do one thing per request, and this one asks for more than one: send them one at a "
    "time, the one you want first, e.g. 'cancel the BTC bid', then 'buy 1 ETH'."
)
_QUANTITY_FILLER = r"(?:\s+(?:shares?|units?|coins?|lots?))?(?:\s+of)?(?:\s+(?:the|our))?"


def instructing_sentences(words: Instruction) -> list[str]:
    """The sentences of the own words that may instruct: those before the request first
    asks anything, none negated."""
    found: list[str] = []
    if words.override:
        return found
    for sentence in re.split(r"(?<=[.!?;])\s+|\n", words.text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if is_question(sentence):
            break
        if not negated(sentence):
            found.append(sentence)
    return found


def _one(values: set[Decimal]) -> Decimal | None:
    return next(iter(values)) if len(values) == 1 else None


def _side(sentence: str) -> str | None:
    for pattern, plain in _JARGON:
        sentence = pattern.sub(plain, sentence)
    buys, sells = bool(_BUY.search(sentence)), bool(_SELL.search(sentence))
    if buys != sells:
        return "buy" if buys else "sell"
    return None


def _quantity(sentence: str, base: str) -> set[Decimal]:
    found: set[Decimal] = set()
    for start, _ in mentions(base, sentence):
        before = re.search(rf"(?P<q>{_NUM}){_QUANTITY_FILLER}\s+(?:a\s+)?$", sentence[:start])
        if before and (value := parse_number(before["q"])) is not None:
            found.add(value)
    return found


def read_sentence_order(sentence: str) -> Intent | None:
    """A trade, a share-sized trade or a close the sentence gives unambiguously, or None."""
    bases = {*(b.split("/")[0].split(":")[-1] for b in symbols_named(sentence))}
    bases |= set(named_bases(sentence))
    if len(bases) != 1:
        return None
    base = next(iter(bases))
    quantity = _quantity(sentence, base)
    prices = {
        value
        for m in _PRICE.finditer(sentence)
        if (value := parse_number(m["cued"] or m["trailed"])) is not None
    }
    pools = {Decimal(m["pct"]) / 100 for m in _POOL.finditer(sentence)}
    if len(quantity) > 1 or len(prices) > 1 or len(pools) > 1 or (quantity and pools):
        return None
    if numbers_in_text(sentence) - quantity - prices:
        return None  # a number with no place in the order: never guess which is which
    side = _side(sentence)
    if side is None and pools and _ALLOCATE.search(sentence) and not _SELL.search(sentence):
        side = "buy"
    if side is not None and (qty := _one(quantity)) is not None:
        price = _one(prices)
        return Intent(
            kind="trade", side=side, symbol=base, quantity=float(qty),
            limit_price=float(price) if price is not None else None,
        )  # fmt: skip
    if side is not None and (share := _one(pools)) is not None and 0 < share <= 1 and not prices:
        return Intent(kind="trade", side=side, symbol=base, fraction=float(share))
    return _close(sentence, base, side, bool(quantity or prices or pools))


def _close(sentence: str, base: str, side: str | None, numbered: bool) -> Intent | None:
    if numbered or side == "buy" or _PARTIAL.search(sentence):
        return None
    sentence = verb_close_only(sentence)
    shares = shares_written(sentence)
    if len(shares) > 1:
        return None
    if shares and (_CLOSE_ALL.search(sentence) or _CLOSE_PART.search(sentence) or side):
        return Intent(kind="close", symbol=base, fraction=next(iter(shares)))
    if not shares and _CLOSE_ALL.search(sentence):
        return Intent(kind="close", symbol=base, fraction=1.0)
    return None


def read_order(words: Instruction) -> Intent | None:
    """The first order an instructing sentence of the own words gives, or None."""
    for sentence in instructing_sentences(words):
        order = read_sentence_order(sentence)
        if order is not None:
            return order
    return None
