"""The rules' grammar for instructions about the book as a whole or one holding, beside the
plain trade (graph/trade_phrase.py): resume, flatten, cancel the open orders, close part or
all of a holding ("sell half our ETH"), and size a buy by a share of the account ("put 10%
into ETH"). Each reads one clause of the user's own words, lead-in removed; the quantity of
a close or a share-sized buy is computed later from the desk's state, never guessed here."""

from __future__ import annotations

import re

from graph.evidence import base_of, shares_written
from graph.instrument_names import named_bases
from graph.intents import Intent
from graph.numbers import parse_number
from graph.trade_phrase import symbols_named

_OUR = r"(?:(?:of\s+)?(?:our|my|the|us|all|out|whole|entire|full)\s+)*"
_HOLDING = (
    r"(?:\s+(?:position|positions|holding|holdings|stack|bag|exposure|long|book|stock|shares))?"
    # "the ether we hold", "the ether we've got"
    r"(?:\s+(?:we|i)(?:\s+(?:hold|have|own)|\s+(?:have\s+)?got|['\u2019]ve\s+got)(?:\s+on)?)?"
)
_NOW = r"(?:\s+(?:entirely|completely|fully|in\s+full|altogether|now|please|pls|asap|today))*"
_RESUME = re.compile(
    r"^(?:resume|restart|re-?arm|un-?halt|re-?enable|reactivate|re-?activate"
    r"|(?:lift|release|remove|clear|undo|end)\s+the\s+(?:trading\s+)?(?:halt|kill\s*switch|freeze"
    r"|pause)"
    r"|turn\s+(?:trading\s+)?back\s+on"
    r"|take\s+(?:the\s+desk|trading|us|everything|the\s+gate)\s+off\s+(?:the\s+)?(?:halt|freeze"
    r"|pause|kill[-\s]?switch)"
    r"|(?:start|get)\s+(?:trading|going)\s+again|back\s+to\s+(?:normal\s+)?trading"
    r"|unfreeze|un-?pause|end\s+the\s+(?:halt|freeze|pause)"
    r"|let\s+(?:us|me)\s+trade\s+again"
    r"|(?:switch|turn)\s+(?:the\s+)?(?:algos?|strategies|trading|bots?|desk|everything|it\s+all)"
    r"\s+back\s+on|(?:disengage|disarm|release|reset)\s+the\s+kill[-\s]?switch"
    r"|(?:take|switch|turn)\s+(?:off\s+)?the\s+(?:halt|kill[-\s]?switch|freeze|pause)(?:\s+off)?"
    r"|(?:we|you)\s+can\s+(?:start\s+)?trad(?:e|ing)\s+again"
    r"|let\s+(?:the\s+)?(?:strategies|algos?|desk|bots?)\s+(?:trade|run)(?:\s+again)?)\b",
    re.I,
)
_FLATTEN = re.compile(
    r"^(?:flatt?en(?:\s+(?:the|our|my|us|everything|all|out|book|portfolio))*"
    r"|get\s+(?:us\s+|me\s+)?out\s+of\s+(?:everything|all\s+(?:of\s+)?(?:our\s+)?positions)"
    r"|(?:sell|close|liquidate|exit|unwind|dump)\s+(?:down\s+|off\s+|out\s+)?(?:every\s+single"
    r"\s+position|the\s+lot|everything\s+we\s+(?:have|hold|own))"
    r"|bring\s+(?:the\s+|us\s+|our\s+)?(?:(?:whole|entire)\s+)?(?:book|portfolio|everything)?"
    r"\s*(?:down\s+)?to\s+flat"
    r"|(?:take|move|put)\s+(?:us|the\s+book|everything)\s+(?:(?:in)?to|into)\s+(?:all\s+)?cash"
    r"|take\s+(?:everything|it\s+all|all\s+risk)\s+off(?:\s+the\s+table)?"
    r"|flat\s+(?:everything|it\s+all|all\s+(?:of\s+)?(?:it|our\s+positions|positions)"
    r"|the\s+(?:(?:whole|entire)\s+)?(?:book|portfolio))\b"
    r"|bail\s+(?:on|out\s+of)\s+(?:everything|all\s+(?:of\s+)?(?:it|our\s+positions|positions))\b"
    # "get us completely flat before the close"
    r"|(?:go\s+|get\s+(?:us\s+)?(?:to\s+)?|take\s+(?:us|the\s+book)\s+(?:to\s+)?)"
    r"(?:(?:completely|totally|fully|entirely|all\s+the\s+way)\s+)?flat"
    # "FLAT. NOW.": the word alone is the order (a question, "flat?", is never a command).
    r"|flat(?:\s+(?:now|asap|please|pls|immediately))?\s*$"
    r"|(?:take|bring|get|run|cut)\s+(?:us|everything|(?:the|our)\s+(?:(?:whole|entire)\s+)?"
    r"(?:book|portfolio|positions))\s+(?:down\s+)?to\s+(?:zero|0|nothing)\b"
    r"|zero\s+(?:out\s+)?(?:the\s+|our\s+)?(?:(?:whole|entire)\s+)?(?:book|portfolio"
    r"|everything|all\s+(?:our\s+)?positions|every\s+(?:single\s+)?(?:position|holding|line))\b"
    r"|(?:i|we)\s+(?:want|need)\s+(?:us|the\s+book)\s+(?:to\s+be\s+)?flat\b"
    r"|be\s+(?:completely\s+|totally\s+)?flat\b"  # "we need to be flat" (lead-in gone)
    r"|(?:close|sell|exit|unwind|liquidate)\s+it\s+all(?:\s+out|\s+down)?\b"
    r"|(?:i|we)\s+(?:want|need)\s+a\s+flat\s+book\b"
    r"|square\s+(?:up|everything|the\s+(?:(?:whole|entire)\s+)?book"
    r"|off\s+(?:everything|all|the\s+(?:whole\s+)?book))"
    r"|(?:close|liquidate|exit|unwind|dump|sell)\s+(?:out\s+|down\s+|off\s+)?"
    r"(?:(?:of\s+)?(?:all|every|each|everything|the\s+whole|the\s+entire|our|my|the|single|open"
    r"|remaining|current)\s*)+"
    r"(?:positions?|holdings?|book|portfolio|of\s+it|(?:open\s+)?(?:lines?|instruments?|names))?"
    r"(?:\s+out)?"  # "close everything out"
    r"(?:\s*we\s+(?:hold|have|own|(?:have\s+|['\u2019]ve\s+)?got)(?:\s+on)?)?"
    r"(?:\s+to\s+(?:zero|0|nothing|flat))?(?:\s+at\s+(?:the\s+)?market)?"
    # "exit all positions across all assets today"
    r"(?:\s+(?:across|in|on|over)\s+(?:(?:all|every|each|the\s+whole)\s+|the\s+)(?:assets?|books?|accounts?"
    r"|venues?|instruments?|markets?|strateg\w+|asset\s+classes?))?"
    r"(?:\s+(?:please|pls|now|asap|today|tonight|immediately))?"
    r"(?:\s+(?:before|by|into|ahead\s+of)\s+(?:the\s+)?(?:close|weekend|eod|end\s+of\s+(?:the\s+)?"
    r"day|tonight|[\w-]+(?:\s+[\w-]+)?\s+(?:print|release|number|meeting|announcement|data)))?\s*$)",
    re.I,
)
_CANCEL = re.compile(
    r"^(?:cancel|cancell|cancle|cxl|pull|withdraw|scrap|scratch|drop|remove|kill|yank|nuke|zap|revoke|rescind)\s+"
    # "yank whatever's resting on the book"
    r"(?:whatever(?:'s|\s+is)|everything|anything)\s+(?:still\s+)?(?:resting|working|pending|open"
    r"|live)\b"
    r"|^(?:cancel|cancell|cancle|cxl|pull|withdraw|scrap|scratch|drop|remove|kill|yank|nuke|zap|revoke|rescind)\s+(?:(?:all|every|each|any|my"
    r"|our|the|open|resting|working|pending|outstanding|live|limit|unfilled|of"
    r"|(?P<what>[A-Za-z]{2,8}))\s+)*"
    r"(?:orders?|bids?|offers?|asks?|quotes?|limits?|stops?)\b"
    r"|^(?:cancel|cancell|cancle|cxl)\s+(?:everything|all)(?:\s+(?:resting|open|working|pending))?\b"
    # "take all our limit orders off the book": off the book, not out of it.
    r"|^(?:take|get|pull)\s+(?:(?:all|every|each|any|my|our|the|open|resting|working|pending"
    r"|outstanding|live|limit|unfilled|of|(?P<off>[A-Za-z]{2,8}))\s+)*"
    r"(?:orders?|bids?|offers?|asks?|quotes?)\s+(?:off|down)\b"
    # "take down every open order we have out there"
    r"|^(?:take|pull)\s+down\s+(?:(?:all|every|each|any|my|our|the|open|resting|working|pending"
    r"|outstanding|live|limit|unfilled|of|(?P<down>[A-Za-z]{2,8}))\s+)+(?:orders?|bids?|offers?"
    r"|quotes?)\b",
    re.I,
)
_CLOSE_VERB = (
    r"(?:sell(?:\s+off)?|close(?:\s+out)?|trim|cut|reduce|dump|unload|offload|get\s+rid\s+of"
    r"|exit|liquidate|take\s+profits?\s+on|lighten|scale\s+out\s+of|get\s+(?:me\s+|us\s+)?out\s+of|shave(?:\s+off)?"
    r"|bail(?:\s+out)?\s+(?:on|of))"
)
_SHARE = (
    r"(?:half|a\s+quarter|quarter|a\s+third|third|three[- ]quarters|two[- ]thirds|a\s+tenth"
    r"|(?:a|one)\s+fifth"
    r"|all|everything|[0-9]{1,3}(?:\.[0-9]{1,4})?\s*(?:%|percent|pct))"
)
_CLOSE = re.compile(
    rf"^{_CLOSE_VERB}\s+(?:by\s+)?(?:(?P<share>{_SHARE})\s+(?:off?\s+)?)?\s*{_OUR}(?P<what>[a-z][\w/:.-]*){_HOLDING}"
    r"(?:\s+(?:by|down\s+by)\s+(?P<by>"
    + _SHARE
    + r"))?\s*(?:position|holding)?"
    + _NOW
    + r"\s*[.!]?$",
    re.I,
)
_HALVE = re.compile(rf"^halve\s+{_OUR}(?P<what>[a-z][\w/:.-]*){_HOLDING}{_NOW}\s*$", re.I)
_TAKE_OFF = re.compile(
    rf"^take\s+(?P<share>{_SHARE})\s+off\s+{_OUR}(?P<what>[a-z][\w/:.-]*){_HOLDING}{_NOW}\s*$",
    re.I,
)
# "do what we did with google last week but for eth": an action by reference, never guessed.
REPEAT = re.compile(
    r"^(?:(?:just\s+)?(?:do|repeat|redo|run|copy)\s+(?:exactly\s+)?(?:what\s+(?:we|you|i)\s+did"
    r"|the\s+same(?:\s+(?:thing|trade|order|as))?|that\s+again|it\s+again|what\s+we\s+do\b|the\s+usual\b"
    r"|whatever\s+we\s+did|last\s+(?:week|time)'?s?))\b",
    re.I,
)
# "the thing we discussed on the call with Marco, just go ahead and do it": the same, by what
# was said elsewhere; a question about it ("the trade we discussed, what's its pnl?") is not.
REFERRED = re.compile(
    r"^(?:(?:hey|so|ok|okay)\s+)?(?:the|that)\s+(?:thing|idea|trade|plan|order)\s+(?:we|you|i)\s+"
    r"(?:discussed|talked\s+about|mentioned|agreed|spoke\s+about)\b"
    r"(?=.*\b(?:do|execute|send|run|place|book)\s+(?:it|that)\b)",
    re.I | re.S,
)
WHICH_ACTION = (
    "Which order or action do you mean? I act only on what a request says: write it out, "
    "e.g. 'buy 0.5 ETH' or 'close the ETH position'."
)
# "take half the SOL off"
_TAKE_OFF_AFTER = re.compile(
    rf"^take\s+(?P<share>{_SHARE})\s+(?:of\s+)?{_OUR}(?P<what>[a-z][\w/:.-]*){_HOLDING}\s+off"
    rf"(?:\s+the\s+table)?{_NOW}\s*$",
    re.I,
)
_POOL = r"(?:(?:the|our|my)\s+)?(?:account|equity|capital|portfolio|book|money|cash|nav|funds?|aum)"
_SIZE = re.compile(
    r"^(?:put|allocate|invest|add|deploy|throw|move|commit|spend|use|get|i'?d\s+like|i\s+want"
    rf"|(?P<verb>buy|short|sell))\s+(?P<share>{_SHARE})\s+(?:of\s+)?(?:{_POOL}\s+)?"
    r"(?:to\s+work\s+)?(?:(?:to|and)\s+(?P<verb2>buy|short|sell)|into|in|to|on|at|towards?|of"
    r"|(?P<side>long|short))"
    r"\s+(?P<what>[a-z][\w/:.-]*)(?:\s+(?:stock|shares|coins?))?(?:\s+(?:please|pls|now|asap))?"
    r"\s*[.!]?$",
    re.I,
)
# "twelve percent of capital into google please": no verb, but "into" moves the money.
_SIZE_INTO = re.compile(
    rf"^(?P<share>{_SHARE})\s+(?:of\s+)?{_POOL}\s+into\s+(?P<what>[a-z][\w/:.-]*)"
    r"(?:\s+(?:stock|shares|coins?))?(?:\s+(?:please|pls|now|asap))?\s*[.!]?$",
    re.I,
)
_SIZE_WITH = re.compile(
    r"^(?P<verb>buy|get|purchase|short|sell|go\s+long|long)\s+(?P<what>[a-z][\w/:.-]*)\s+"
    rf"(?:with|using)\s+(?P<share>{_SHARE})\s+(?:of\s+)?{_POOL}\s*[.!]?$",
    re.I,
)
# "put on a 15-share short in GOOG", "open a 2-coin long in ETH": the size is the order's.
SIZED_POSITION = re.compile(
    r"^(?:put\s+on|open|take\s+on|take|establish|do|initiate|start)\s+an?\s+(?P<qty>[0-9][0-9.,]*k?)"
    r"[- ](?:shares?|coins?|units?|lots?)\s+(?P<side>long|short)\s+(?:position\s+)?(?:in|on|of)\s+"
    r"(?P<what>[a-z][\w/:.-]*)\s*[.!]?$",
    re.I,
)
# An order with nothing to size it: asked back, never guessed.
_VAGUE = re.compile(
    # "since long time", "long term": time, not a side.
    r"^(?:buy|sell|short|long(?!\s*(?:/|minus\b|vs\b|versus\b|and\s+short|or\s+short|-\s*short"
    r"|time\b|term\b|run\b|ago\b|while\b|story\b|day\b|week\b))|go\s+long"
    r"|trade|dump|load\s+up|get\s+rid\s+of|double|halve"
    # "flip the position" (a reversal with no size); "flip the strat to paper" promotes.
    r"|(?:flip|reverse)(?!.*\bto\s+(?:paper|live|prod))"
    # "trim the position": part of a holding, with neither the share nor the holding named.
    r"|(?:trim|cut|reduce|lighten|shave)\s+(?:the|that|this|our|my)\s+(?:position|holding|long"
    r"|short|book|portfolio|exposure)(?:\s+(?:a\s+(?:bit|little|touch|tad)|slightly|some"
    r"|somewhat|down|back))*\s*$"
    # "put on the trade we discussed": which trade is the user's to say.
    r"|(?:put\s+on|do|execute|place|send|book)\s+(?:the|that)\s+(?:trade|order)\b"
    # "put on a position in GOOG": a position with neither side nor size.
    r"|(?:put\s+on|open|take|establish|start|build)\s+(?:a|some|an)\s+(?:new\s+|small\s+)?"
    r"(?:position|trade)\s+(?:in|on)\b"
    r"|add\s+to|increase|put\s+(?:some\s+)?money|same\s+again|do\s+(?:it|that)\s+again"
    r"|get\s+(?:us|me)\s+(?:some|a\s+bit\s+of|a\s+little|more)"
    r"|(?:add|build|take\s+on|get)\s+(?:some\s+|more\s+)?exposure\s+to)\b",
    re.I,
)
_SELLING = re.compile(r"^(?:short|sell)", re.I)


def _symbol(word: str) -> str | None:
    """A known instrument by ticker or name, or a ticker written in capitals ("LTC"):
    "sell it" or "lighten up" name nothing."""
    named = symbols_named(word) or named_bases(word)
    if named:
        return base_of(named[0])
    return word if re.fullmatch(r"[A-Z]{2,6}", word) else None


def _share(text: str | None) -> float | None:
    if not text:
        return None
    shares = shares_written(text)
    return max(shares) if len(shares) == 1 else None


def read_desk_phrase(command: str) -> Intent | None:
    """The intent a clause instructs about the book or one holding, or None."""
    text = command.strip().rstrip(".!")
    if _RESUME.match(text):
        return Intent(kind="resume")
    cancel = _CANCEL.match(text)
    if cancel:
        named = cancel["what"] or cancel["off"] or cancel["down"]
        what = named and _symbol(named)
        # "cancel whatever's still working on LTC", "cancel bids and offers on ETH"
        if not what and len(bases := set(named_bases(text))) == 1:
            what = bases.pop()
        return Intent(kind="cancel", symbol=what or None)
    if _FLATTEN.match(text):
        return _flatten(text)
    sized = _SIZE.match(text) or _SIZE_WITH.match(text) or _SIZE_INTO.match(text)
    if sized:
        symbol, share = _symbol(sized["what"]), _share(sized["share"])
        verb = next(
            (v for k in ("verb2", "verb", "side") if (v := sized.groupdict().get(k))), "buy"
        )
        if symbol and share:
            side = "sell" if _SELLING.match(verb) else "buy"  # "long BTC" buys, "short" sells
            return Intent(kind="trade", side=side, symbol=symbol, fraction=share)
    position = SIZED_POSITION.match(text)
    if position and (symbol := _symbol(position["what"])):
        quantity = parse_number(position["qty"])
        if quantity is not None and quantity > 0:
            side = "sell" if position["side"].lower() == "short" else "buy"
            return Intent(kind="trade", side=side, symbol=symbol, quantity=float(quantity))
    halved = _HALVE.match(text)
    if halved and (symbol := _symbol(halved["what"])):
        return Intent(kind="close", symbol=symbol, fraction=0.5)
    closing = _CLOSE.match(text) or _TAKE_OFF.match(text) or _TAKE_OFF_AFTER.match(text)
    if closing:
        symbol = _symbol(closing["what"])
        given = closing["share"] or closing.groupdict().get("by")
        if symbol and not given and (_PARTIAL_VERB.match(text) or _BARE_SELL.match(text)):
            return Intent(kind="clarify", question=_HOW_MUCH.format(symbol=symbol))
        share = _share(given) if given else 1.0
        if symbol and share:
            return Intent(kind="close", symbol=symbol, fraction=share)
    return None


# Verbs that take part of a holding: with no share named, how much is the user's to say.
_PARTIAL_VERB = re.compile(r"(?:trim|cut|reduce|lighten|shave|pare)\b", re.I)
# "sell GOOG": no holding, share or "whole" named, so as likely a new sale as the holding.
_BARE_SELL = re.compile(r"^sell\s+[a-z][\w/:.-]*(?:\s+(?:now|please|pls|asap|today))*\s*$", re.I)
_HOW_MUCH = "How much of {symbol}? Say e.g. 'trim {symbol} by 25%' or 'sell half our {symbol}'."


def _flatten(text: str) -> Intent:
    """A flatten that names one instrument ("flatten just the ETH position") closes that
    holding, never the whole book; one that names more, or names an exception ("flatten
    all but BTC"), is asked back."""
    named = {base_of(s) for s in symbols_named(text)} | set(named_bases(text))
    if not named:
        return Intent(kind="flatten")
    if len(named) == 1 and not EXCEPTION.search(text):
        return Intent(kind="close", symbol=named.pop(), fraction=1.0)
    return Intent(kind="clarify", question=WHICH_FLATTEN)


WHICH_FLATTEN = (
    "Flatten the whole book, or close one holding? Say 'flatten the book' or 'close the ETH "
    "position'."
)


EXCEPTION = re.compile(
    r"\b(?:except|excluding|exclude|other\s+than|apart\s+from|besides|but|save|leave|keep|not)\b",
    re.I,
)


def vague_order(command: str) -> Intent | None:
    """An order the clause gives without a size or an instrument: a question back."""
    if _VAGUE.match(command.strip()):
        return Intent(
            kind="clarify",
            question="How much, and of what? Write e.g. 'buy 0.1 BTC', 'sell half our ETH' "
            "or 'put 5% into ETH'.",
        )
    return None
