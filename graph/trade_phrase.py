"""A trade instruction's grammar: `[lead-in] buy|sell QUANTITY SYMBOL [at|@ PRICE]`.

Numbers are ASCII decimals (`[0-9]`, never Python's Unicode `\\d`), at most 12 digits
either side of the point, above zero, in the forms graph/numbers.py reads ("61,500", "67k").
Anything else in a number's place (an exponent, an Arabic-Indic or full-width digit, a
decimal comma, a sign, 400 digits) is refused with a message that names it, never read as
some other number.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from graph.instruction import LEAD_IN
from graph.instrument_names import misspelt
from graph.intents import Refusal, RefusedPart
from graph.numbers import MAX_DIGITS, PERCENT_WORD, parse_number

MAX_SYMBOL = 32  # as graph.intents.Intent.symbol
_SIDE = re.compile(r"(buy|sell)\s+(\S+)(.*)", re.I | re.A | re.S)
_DIGITS = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.A)
_EXPONENT = re.compile(r"[0-9.]+e[+-]?[0-9]+", re.I | re.A)
# venue:BASE/QUOTE, BASE/QUOTE or SYMBOL, ASCII letters and digits (as tools/instruments.py).
_SYMBOL = re.compile(
    r"(?:[a-z][a-z0-9_-]{0,19}:)?[a-z][a-z0-9.]{0,15}(?:/[a-z][a-z0-9]{0,15})?", re.I | re.A
)
_TRAILING = ",.;:!?)"


class TradePhrase(BaseModel):
    """A well-formed trade instruction, as the user wrote it."""

    model_config = ConfigDict(frozen=True)

    side: str
    quantity: float
    symbol: str
    limit_price: float | None


def _shown(token: str) -> str:
    return token if len(token) <= 24 else f"{token[:20]}… ({len(token)} characters)"


def looks_numeric(token: str) -> bool:
    """A token in a number's place: any digit of any script, or a sign or point first."""
    return any(ch.isnumeric() for ch in token) or token[:1] in ("-", "+", ".")


def read_number(token: str, subject: RefusedPart) -> float | Refusal:
    """A positive plain decimal, or a refusal that says what was not understood."""

    def refuse(reason: str) -> Refusal:
        return Refusal(subject=subject, given=_shown(token), reason=reason)

    value = parse_number(token)
    if value is not None:
        return float(value) if value > 0 else refuse("must be above zero")
    if token.startswith("-") and _DIGITS.fullmatch(token[1:]):
        return refuse("must be above zero")
    if _EXPONENT.fullmatch(token):
        return refuse("exponents are not read; write the number out in digits")
    if any(ch.isnumeric() and not ch.isascii() for ch in token):
        return refuse("numbers are written with the ASCII digits 0-9")
    if _DIGITS.fullmatch(token):
        return refuse(f"too many digits (at most {MAX_DIGITS} before and after the point)")
    return refuse(
        "not a plain number: digits 0-9, at most one decimal point, thousands as 61,500 or 61.5k"
    )


def read_symbol(token: str) -> str | Refusal:
    """The symbol as written (venue lower case, the pair upper case), or a refusal."""
    if not token:
        return Refusal(subject="symbol", given="", reason="a trade names what to buy or sell")
    if len(token) > MAX_SYMBOL:
        reason = f"too long for a symbol (at most {MAX_SYMBOL} characters)"
        return Refusal(subject="symbol", given=_shown(token), reason=reason)
    if not _SYMBOL.fullmatch(token):
        reason = "a symbol is ASCII letters and digits: BTC, BTC/USD or bitstamp:BTC/USD"
        return Refusal(subject="symbol", given=_shown(token), reason=reason)
    venue, _, pair = token.rpartition(":")
    return f"{venue.lower()}:{pair.upper()}" if venue else pair.upper()


# Other ways to say buy or sell, read as the plain verb ("grab 0.25 btc", "short 1 ETH",
# "hit the bid on 0.3 BTC", "offer 1 ETH at 4000").
_BUY_VERB = re.compile(
    r"^(?:grab|purchase|pick\s+up|scoop(?:\s+up)?|go\s+long|long|get(?!\s+rid\b)(?:\s+me)?|need|acquire"
    r"|bid(?:\s+for)?|put\s+in\s+a\s+bid\s+for"
    r"|place\s+an?\s+(?:limit\s+|market\s+)?order\s+to\s+buy"
    r"|(?:execute|make|do|place|book)\s+an?\s+purchase\s+of|add(?=\s+[0-9])"
    r"|lift\s+the\s+(?:offer|ask)\s+(?:on|for|in)|lift(?=\s+[0-9])|take\s+the\s+offer\s+(?:on|for|in)"
    r"|(?:(?:i|we)\s+)?(?:want|need|would\s+like|['\u2019]?d\s+like)(?=\s+[0-9]))\s+(?=\S)",
    re.I | re.A,
)
_SELL_VERB = re.compile(
    r"^(?:short|go\s+short|dump|offload|unload|sel(?=\s+[0-9])|get\s+rid\s+of(?=\s+[0-9])|hit\s+the\s+bid\s+(?:on|for)|offer"
    r"|place\s+an?\s+(?:limit\s+|market\s+)?order\s+to\s+sell"
    r"|(?:execute|make|do|place|book)\s+an?\s+sale\s+of)\s+(?=\S)",
    re.I | re.A,
)
_FILLER = frozenset({"shares", "share", "units", "unit", "coins", "coin", "of", "lots", "lot"})
# Common names of the desk's instruments, read as their ticker.
_NAMES = {"bitcoin": "BTC", "bitcoins": "BTC", "ether": "ETH", "ethereum": "ETH",
          "google": "GOOG", "alphabet": "GOOG", "litecoin": "LTC"}  # fmt: skip
# A limit price after the symbol: "at 3000", "@3000", "limit 150", "with a limit of 140.50",
# "(and pay) no more than 2500".
PRICE_CUE = re.compile(
    r"(?:^|\s)(?:at|@|limit(?:\s+price)?(?:\s+of)?|lmt|with\s+a\s+limit(?:\s+price)?\s+of"
    r"|(?:max|min)(?:imum)?\s+price(?:\s+of)?"
    r"|nothing\s+(?:below|under|above|over|lower\s+than|higher\s+than|worse\s+than)"
    r"|(?:pay\s+)?no\s+more\s+than|(?:for\s+)?no\s+less\s+than|at\s+most|at\s+least"
    r"|no\s+(?:higher|lower)\s+than"
    # "but not paying over 61000 for it"
    r"|(?:but\s+)?not\s+(?:(?:pay(?:ing)?|go(?:ing)?|sell(?:ing)?|buy(?:ing)?)\s+)?(?:above|over|below|under"
    r"|more\s+than|less\s+than)"
    r"|(?:do\s+not|don'?t)\s+(?:go|pay|sell)\s+(?:above|over|below|under)"
    r"|(?:do\s+not|don'?t)\s+(?:pay\s+more|sell\s+(?:for\s+)?less|go\s+(?:higher|lower))\s+than"
    r"|(?:won'?t|will\s+not|wouldn'?t)\s+(?:pay|go|sell)\s+(?:above|over|below|under|more\s+than"
    r"|less\s+than))"
    r"(?:\s+|(?<=@))(?P<price>\S+)",
    re.I | re.A,
)


# "show a 142 bid for 15 GOOG" is a limit buy of 15 GOOG at 142; an offer is a sale.
_SHOWN_QUOTE = re.compile(
    r"^(?:show|post|put\s+(?:up|in|out)|make|leave|work)\s+an?\s+(?P<price>[0-9][0-9,.]*k?)\s+"
    r"(?P<quote>bid|offer)\s+(?:for|on|in)\s+(?P<rest>[0-9].*)$",
    re.I | re.A | re.S,
)


def _plain_verb(command: str) -> str:
    text = LEAD_IN.sub("", command).strip()
    shown = _SHOWN_QUOTE.match(text)
    if shown:
        side = "buy" if shown["quote"].lower() == "bid" else "sell"
        return f"{side} {shown['rest']} at {shown['price']}"
    text = _BUY_VERB.sub("buy ", text, count=1)
    return _SELL_VERB.sub("sell ", text, count=1)


def read_trade(command: str) -> TradePhrase | Refusal | None:
    """The trade a command gives (a clause without its lead-in), a refusal when it gives a
    trade the desk cannot read, or None when it is not a trade instruction at all."""
    found = _SIDE.fullmatch(_plain_verb(command))
    if found is None or not looks_numeric(found[2]):
        return None  # "buy-side exposure", "sell everything": not an order with a size
    side, quantity_token, rest = found[1].lower(), found[2], found[3].split()
    quantity = read_number(quantity_token, "quantity")
    if isinstance(quantity, Refusal):
        return quantity
    while len(rest) > 1 and rest[0].lower() in _FILLER:
        rest = rest[1:]
    token = rest[0].rstrip(_TRAILING) if rest else ""
    if re.match(PERCENT_WORD, " ".join(rest), re.I):
        return None  # "buy 5 percent of the fund in ETH": a share, read by graph/order_slots.py
    # "buy 1 bitcon": a misspelt name is read as the instrument it names, never as a ticker.
    symbol = read_symbol(_NAMES.get(token.lower()) or misspelt(token.lower()) or token)
    if isinstance(symbol, Refusal):
        return symbol
    limit_price: float | None = None
    price_token = ""
    cue = PRICE_CUE.search(" ".join(w for w in rest[1:] if w.lower() not in _FILLER))
    if cue:
        price_token = cue["price"]
    elif len(rest) > 1 and rest[1].startswith("@") and len(rest[1]) > 1:
        price_token = rest[1][1:]
    price_token = price_token.rstrip(_TRAILING)
    if price_token and looks_numeric(price_token):  # "at market" is a market order
        price = read_number(price_token, "limit price")
        if isinstance(price, Refusal):
            return price
        limit_price = price
    return TradePhrase(side=side, quantity=quantity, symbol=symbol, limit_price=limit_price)


# Symbols a request names outside a trade phrase ("find a momentum strategy for BTC"): the
# desk's own bases, a venue-qualified symbol, or a pair written in capitals (BTC/EUR).
_NAMED = re.compile(
    r"(?<![\w/:])(?:"
    r"[a-z][a-z0-9_-]{0,19}:[a-z][a-z0-9.]{0,15}(?:/[a-z][a-z0-9]{0,15})?"
    r"|(?:btc|eth|ltc|goog)(?:/[a-z]{2,6})?"
    r"|eur/?usd"
    r"|(?-i:[A-Z]{2,10}/[A-Z]{2,10})"
    r")(?![\w/])",
    re.I | re.A,
)


def symbols_named(text: str) -> list[str]:
    """The symbols `text` names, as `read_symbol` writes them, in order."""
    named = (read_symbol(m.group(0)) for m in _NAMED.finditer(text))
    return [("EUR/USD" if s == "EURUSD" else s) for s in named if isinstance(s, str)]
