"""What the user's own words give: the numbers written in them, the shares named ("half",
"10%"), the instruments named (by ticker or common name) and the verbs that instruct an
action. A router's proposal to act is held to this evidence (graph/intent_guard.py): a
quantity, price, share, instrument or side that is not here was invented."""

from __future__ import annotations

import re

from graph.instruction import Instruction
from graph.instrument_names import names_base
from graph.numbers import PERCENT_WORD, numbers_in_text
from graph.trade_phrase import read_symbol, symbols_named

PERCENT_FORM = rf"(?P<pct>[0-9]{{1,3}}(?:\.[0-9]{{1,4}})?)\s*(?:%|{PERCENT_WORD})"
"""A percentage as written ("10%", "4 per cent", "7 pct"): its number in group `pct`."""
_PERCENT = re.compile(rf"(?<![\w.]){PERCENT_FORM}", re.I | re.A)
_SHARE_WORDS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\bhalf\b|\b50/50\b", re.I), 0.5),
    (re.compile(r"\bthree[- ]quarters\b", re.I), 0.75),
    (re.compile(r"\b(?:a\s+)?quarter\b", re.I), 0.25),
    (re.compile(r"\b(?:a\s+)?third\b", re.I), 1 / 3),
    (re.compile(r"\btwo[- ]thirds\b", re.I), 2 / 3),
    (re.compile(r"\btenth\b", re.I), 0.1),
    (re.compile(r"\b(?:a|one)\s+fifth\b", re.I), 0.2),
    (re.compile(r"\b(?:all|entire|entirely|whole|everything|fully|full|completely)\b", re.I), 1.0),
)
# "get out of ETH" and "flatten the ETH" are the whole holding, but "scale out of three
# quarters" is not.
_OUT = re.compile(r"\bout\b|\bflatt?en\b", re.I)
_NEGATION = (
    # A price cap is no negation: "buy 25 SOL no higher than 140", "not paying over 61000".
    r"(?:don'?t|dont|do\s+not|never|no\s+need|hold\s+off|avoid|without"
    r"|not\b(?!\s+(?:(?:pay(?:ing)?|go(?:ing)?|sell(?:ing)?|buy(?:ing)?)\s+)?(?:above|over|below|under|more\s+than"
    r"|less\s+than)\s+\$?[0-9])"
    r"|no\b(?!\s+(?:higher|lower|more|less|worse)\s+than\s+\$?[0-9])"
    r"|under\s+no\s+circumstances|stop\s+asking)"
)
_NEGATED = re.compile(rf"^(?:\w+\s+)?{_NEGATION}", re.I)
_SENTENCE_NEGATED = re.compile(rf"\b{_NEGATION}", re.I)
BUY_WORDS = re.compile(
    r"\b(?:buy|purchase|long|acquire|grab|get|pick\s+up|put|allocate|invest|add|accumulate"
    r"|bid|deploy|load\s+up|lift|commit|cover|want(?=\s+\$?[0-9]))\b",
    re.I,
)
SELL_WORDS = re.compile(
    r"\b(?:sell|sale|short|dump|unload|offload|trim|cut|reduce|close|exit|liquidate|get\s+rid"
    r"|offer|take\s+profits?|lighten|scale\s+out|hit|unwind|pare|bank|bail"
    # "get me out of GOOG", "take half the SOL off"
    r"|get\s+(?:me\s+|us\s+)?out\s+of|take\s+(?:[\w.%-]+\s+){1,5}off)\b",
    re.I,
)
POSTED = (
    r"\b(?:post|place|put\s+(?:up|out|in)|show|leave|rest|work|stick\s+(?:up|out|in))(?:s|ed|ing)?"
    r"\s+(?:an?\s+|the\s+|our\s+|my\s+)?"
)
"""A resting order put out: "post an ask" sells, "show a bid" buys."""
# Desk idioms whose words name the other side: "lift the offer" buys (it holds "offer"),
# "hit the bid" sells (it holds "bid"), "cover the short" buys.
_SIDE_IDIOMS = {
    "buy": re.compile(
        r"\blift(?:s|ing)?\s+(?:the\s+|an?\s+)?(?:offers?|asks?)\b"
        r"|\bcover(?:s|ing)?\s+(?:the\s+|our\s+|my\s+)?shorts?\b",
        re.I,
    ),
    "sell": re.compile(
        rf"\b(?:hit|whack|smack|slam)(?:s|ting|ing)?\s+(?:the\s+|a\s+)?bids?\b|{POSTED}asks?\b",
        re.I,
    ),
}
ACT_WORDS: dict[str, re.Pattern[str]] = {
    # A halt verb opens its clause: "take the halt off" or "is the kill switch on" is not one.
    "halt": re.compile(
        r"^(?:halt|stop|kill|freeze|pause|suspend|cease|shut|pull\s+the\s+plug|emergency|e-?stop"
        r"|(?:hit|trip|press|pull|throw|engage|activate|use|fire)\s+the\s+(?:big\s+red\s+button"
        r"|kill[- ]?switch|red\s+button|circuit[- ]?breakers?)"
        r"|(?:lock|stand)\s+(?:the\s+desk|trading|everything|it\s+all|us)\s+down|lock\s+down"
        r"|(?:put|switch|set|move)\s+(?:the\s+desk|trading|everything|us|the\s+gate)\s+(?:in|into"
        r"|to)\s+(?:halt(?:ed)?|freeze|frozen|kill)"
        r"|(?:turn|switch|shut)\s+(?:off\s+)?(?:the\s+|all\s+(?:the\s+)?)?(?:algos?|strategies"
        r"|bots?|trading|everything|desk)(?:\s+off)?)\b",
        re.I,
    ),
    # Flatten and cancel name what they act on: "pull up our positions" cancels nothing.
    "flatten": re.compile(
        r"\bflatt?en\b|\b(?:go|get|to|down\s+to|us)\s+(?:(?:completely|totally|fully|entirely)\s+)?flat\b|^flat\s+(?:everything|it\s+all"
        r"|the\s+(?:(?:whole|entire)\s+)?(?:book|portfolio))\b"
        r"|\bsquare\s+(?:up|off|everything)\b"
        r"|\b(?:to|into)\s+(?:all\s+)?cash\b"
        r"|\b(?:close|exit|sell|liquidate|unwind|dump|get\s+(?:us\s+)?out\s+of|take|bail)\b.*"
        r"\b(?:everything|all\s+(?:(?:our|the|open)\s+)*(?:positions|holdings|lines|of\s+it)"
        r"|every\s+(?:single\s+)?(?:open\s+)?(?:position|line|holding)"
        r"|(?:whole|entire)\s+(?:book|portfolio))\b",
        re.I,
    ),
    "cancel": re.compile(
        r"^(?:cancel|cancell?|cancle|cxl)\b"
        r"|\b(?:cancel|cancle|cxl|pull|withdraw|scrap|drop|kill|remove|yank|nuke|zap|revoke"
        r"|rescind)\b.*"
        r"\b(?:orders?|bids?|offers?|asks?|quotes?|resting|working)\b"
        # "take all our bids and offers down", "take down every open order"
        r"|\b(?:take|get|pull)\b(?:\s+[\w&]+)*?\s+(?:orders?|bids?|offers?|asks?|quotes?)\s+(?:off"
        r"|down)\b|\b(?:take|pull)\s+down\b.*\b(?:orders?|bids?|offers?|asks?|quotes?)\b",
        re.I,
    ),
}


# "close" as a time of day ("up to today's close", "sell at the close") or as "near" ("close
# to the limit") instructs no close.
_NOT_VERB_CLOSE = re.compile(
    r"(?:\b(?:(?:today|yesterday|tonight|tomorrow|friday|monday|tuesday|wednesday|thursday"
    r"|market|session|day|week|month)(?:'?s)?|the|at|on|by|into|until|till|before|after|near"
    r"|from|since|of)\s+(?:(?:the|market|daily|weekly|monthly|last|prior|previous|session|ny"
    r"|us|london|cash)\s+)*)close\b(?!\s+out)|\bclose\s+to\b",
    re.I,
)


def verb_close_only(text: str) -> str:
    """`text` with "close" masked wherever it is not the verb."""
    return _NOT_VERB_CLOSE.sub(lambda m: m.group(0).replace("close", "closing-time"), text)


def written(value: float, text: str) -> bool:
    """Whether `value` is one of the numbers written in `text`."""
    return any(abs(float(n) - value) <= 1e-9 * max(1.0, abs(value)) for n in numbers_in_text(text))


def shares_written(text: str) -> set[float]:
    """The shares `text` names: "half" 0.5, "a quarter" 0.25, "all" 1.0, "10%" 0.1."""
    found = {share for pattern, share in _SHARE_WORDS if pattern.search(text)}
    for m in _PERCENT.finditer(text):
        value = float(m.group(1)) / 100
        if 0 < value <= 1:
            found.add(value)
    if not found and _OUT.search(text):
        found.add(1.0)
    return found


def share_written(value: float, text: str) -> bool:
    return any(abs(value - s) <= 1e-6 for s in shares_written(text))


def base_of(symbol: str) -> str:
    """The bare base of a symbol as the desk or a user writes it: bitstamp:BTC/USD -> BTC."""
    pair = symbol.split(":")[-1].upper()
    return pair if pair in ("EUR/USD", "EURUSD") else pair.split("/")[0]


def instrument_named(symbol: str, text: str) -> bool:
    """Whether `text` names `symbol`: a pair or a venue's symbol exactly as written, a bare
    ticker by itself or by a common name."""
    if "/" in symbol or ":" in symbol:
        return read_symbol(symbol) in symbols_named(text)
    return names_base(base_of(symbol), text)


def as_named(symbol: str, text: str) -> str | None:
    """`symbol` as `text` writes it ("BTC" in "buy BTC/USD" is BTC/USD), or None when the
    text does not name it: a router's symbol is never more or less than the user's."""
    if not instrument_named(symbol, text):
        return None
    written_ = [s for s in symbols_named(text) if base_of(s) == base_of(symbol)]
    return written_[0] if written_ else base_of(symbol)


def negated(text: str) -> bool:
    """Whether `text` holds a negation ("don't", "never", "no need", "without"...): an
    instruction in it is not one."""
    return _SENTENCE_NEGATED.search(text) is not None


_CONSEQUENCE = re.compile(r"\b(?:so|therefore|hence|thus)\b", re.I)


def acting_clauses(words: Instruction) -> list[str]:
    """The clauses that may instruct an action: instructions (lead-in removed) before the
    request first asks anything ("what is X? buy 1 BTC" instructs nothing, as for the
    rules), none negated, nor after a negation earlier in its sentence ("Do not, under any
    circumstances, flatten the book")."""
    if words.override:
        return []
    found: list[str] = []
    at = 0
    for clause in words.clauses:
        if clause.question:
            break
        start = words.text.find(clause.text, at)
        joint = words.text[at : max(start, at)]
        at = max(at, start + len(clause.text)) if start >= 0 else at
        sentence = re.split(r"[.!?;\n]", words.text[: max(start, 0)])[-1]
        if _CONSEQUENCE.search(joint):
            # "I don't like how the book looks, so let's just flatten everything": what
            # follows "so" is the conclusion, not more of what was refused.
            sentence = ""
        if clause.command and not negated(sentence + " " + clause.text):
            found.append(clause.command)
    return found


def instructs(words: Instruction, verbs: re.Pattern[str]) -> bool:
    """Some acting clause of the own words instructs one of `verbs`."""
    return any(verbs.search(c) for c in acting_clauses(words))


def instructs_side(words: Instruction, side: str) -> bool:
    """Some acting clause instructs `side`: by one of its idioms, or by its verbs outside the
    other side's idioms ("lift the offer on 0.15 BTC" instructs no sale)."""
    verbs = BUY_WORDS if side == "buy" else SELL_WORDS
    other = _SIDE_IDIOMS["sell" if side == "buy" else "buy"]
    return any(
        _SIDE_IDIOMS[side].search(c) or verbs.search(other.sub(" ", verb_close_only(c)))
        for c in acting_clauses(words)
    )
