"""What the user's own words instruct the desk to do: halt, trade, paper-trade a strategy.
Each reads only `Instruction` clauses (graph/instruction.py), so quoted, commented or
attributed text never counts, and a question or a negated verb is not an instruction:
"is the kill switch armed?" and "don't halt" both start with something other than the verb.
"""

from __future__ import annotations

import re

from graph.instruction import Instruction
from graph.trade_phrase import TradePhrase, read_trade

# A halt instruction opens its clause (after a lead-in such as "please" or "now"). The
# bare nouns ("kill switch", "stop") count only alone or with "now"/"immediately", so
# "kill switch status" is not a halt.
_NOW = r"(?:\s+(?:now|immediately|please|pls|asap|at\s+once|right\s+now|on)){0,2}\s*$"
_HALT = re.compile(
    # "halt's over" speaks of a halt; it does not order one.
    r"^(?:hau?lt\b(?!['\u2019]s\b)"
    r"|stop(?:\s+all)?\s+(?:trading|everything|orders)\b"
    rf"|stop(?:\s+(?:it|all|everything))?{_NOW}"
    rf"|(?:big\s+red\s+button|kill[-\s]?switch){_NOW}"
    rf"|kill(?:\s+(?:it|all))?{_NOW}"
    r"|kill\s+(?:it\s+all|everything|all\s+trading|trading|the\s+desk)\b"
    r"|(?:nuke|freeze|suspend|pause|cease)\s+(?:all\s+)?(?:trading|everything)\b"
    r"|(?:trip|hit|pull|throw|engage|activate|flip|use|fire|press)\s+the\s+(?:kill[-\s]?switch"
    r"|(?:desk['\u2019]?s\s+)?circuit[-\s]?breakers?)\b"
    r"|(?:lock|stand)\s+(?:the\s+desk|trading|everything|it\s+all|us)\s+down\b"
    r"|stand\s+down\s+(?:the\s+desk|trading|all\s+trading)\b"
    r"|(?:put|switch|set|move)\s+(?:the\s+desk|trading|everything|us|the\s+gate)\s+(?:in|into|to)\s+"
    r"(?:halt(?:ed)?|freeze|frozen|kill)\s*(?:mode|state)?\b"
    r"|lock\s+down\s+(?:the\s+desk|trading|everything|all\s+trading)\b"
    r"|(?:turn|switch|shut)\s+(?:the\s+|all\s+(?:of\s+)?(?:the\s+)?)?(?:algos?|strategies|bots?"
    r"|trading|everything|desk)\s+off\b"
    r"|(?:turn|switch|shut)\s+off\s+(?:the\s+|all\s+(?:of\s+)?(?:the\s+)?)?(?:algos?|strategies"
    r"|bots?|trading|everything|desk)\b"
    r"|(?:i|we)\s+(?:want|need)\s+(?:the\s+desk|everything|all\s+trading|trading|the\s+algos?)"
    r"\s+(?:frozen|halted|stopped|paused|off|shut\s+down)\b"
    r"|emergency\s+stop\b"
    r"|shut\s+(?:it\s+|everything\s+|trading\s+|the\s+desk\s+)?(?:all\s+)?down\b"
    r"|(?:freeze|pause|suspend|cease|stop)\s+(?:all\s+)?(?:the\s+)?"
    r"(?:trading|orders|order\s+flow|everything|the\s+desk|activity|all\s+activity|algos?|bots?"
    r"|strategies)\b"
    r"|pull\s+the\s+plug\b"
    r"|(?:stop|halt|freeze)\s+(?:all\s+)?(?:new\s+)?(?:orders|trades|trading\s+activity)\b"
    r"|no\s+(?:more|new)\s+(?:trading|orders|trades)\b(?!\s+(?:on|in|for)\s)"
    r"|full\s+stop\b|e-?stop\b"
    r"|(?:nobody|no\s*-?\s*one)\s+(?:trades|is\s+trading|places?\s+(?:an?\s+)?orders?)\b"
    r"|(?:hit|press|push|smash)\s+the\s+(?:big\s+)?red\s+button\b)",
    re.I | re.A,
)
# Mentions of a halt that are not instructions ("is the kill switch armed?", "why did we
# halt?"): the desk answers with its state.
HALT_MENTION = re.compile(
    r"\b(halt\w*|kill switch|kill|stop trading|stop everything|trading state|frozen|paused"
    r"|circuit[- ]breakers?|lock(?:ed)?[- ]?down)\b",
    re.I,
)
_PAPER_TRADE = re.compile(
    r"^(?:paper[- ]?trade\b|start\s+(?:a\s+|the\s+)?paper[- ]?trad(?:e|ing)\b|go\s+live\b"
    r"|(?:to\s+|on\s+)?paper\s*$"  # "find a breakout strat for litecoin -> paper"
    r"|trade(?:\s+(?:it|this|that|them|the\s+\w+(?:\s+one)?))?\s*$"
    r"|(?:put|take)\s+(?:it|this|that)\s+(?:live|on\s+paper)\b"
    # "sim-trade the top strategy on paper", "forward-test it on paper".
    r"|(?:run|trade|put|get|start|deploy|launch|sim(?:ulate)?(?:[- ]?trade)?|forward[- ]?test"
    r"|test|try|trial)\s+(?:it|this|that|them|the\s+(?:best|top|winner"
    r"|winning)(?:\s+(?:one|strat\w*|model|candidate|performer|result))?|the\s+\w+(?:\s+one)?)"
    r"\s+(?:going\s+|running\s+)?on\s+paper\b"
    r"|(?:stick|put|run|trade|deploy)\s+(?:it|this|that|them)\s+(?:on|in)\s+(?:the\s+)?paper\b"
    r"|(?:begin|commence)\s+paper[- ]?trading\b"
    r"|(?:begin|start|commence)\s+(?:simulated|sim)\s+(?:\(paper\)\s+)?trading\b"
    r"|promote\s+(?:it|this|that)\b"
    r"|paper(?:[- ]?trade)?\s+(?:it|this|that|them|the\s+(?:best|top|winner|winning)(?:\s+(?:one"
    r"|strat\w*|model|candidate|performer|result))?)\b"
    r"|(?:get|start|have|set)\s+(?:it|this|that|them)\s+(?:going\s+|running\s+)?(?:on\s+)?"
    r"paper[- ]?trad\w*)",
    re.I | re.A,
)

# A verb that sets the found strategy going, wherever it stands in the clause, with "paper"
# as where it goes: "if it looks decent spin it up in paper", "let it run in the paper
# account". Never in a clause that says not to.
_ONTO_PAPER = re.compile(
    r"^(?!.*\b(?:not|don'?t|never|no|without)\b).*\b(?:spin|fire|set|stand|start|put|get|run"
    r"|let|deploy|launch|move|send|stick|throw|trade|test|try|take)\s+(?:it|this|that|them"
    r"|the\s+(?:best|top|winner|winning)\w*(?:\s+(?:one|strat\w*|model|variant|candidate|pick"
    r"|performer|idea|system|setup))?|the\s+(?:result|results|outcome|output|finding|findings))\s+"
    r"(?:up\s+|going\s+|running\s+|run\s+|trade\s+|go\s+|live\s+)?(?:in|on|into|to|with|using)\s+"
    r"(?:the\s+)?paper\b"
    # "put whichever strategy comes out on top into simulated (paper) trading"
    r"|^(?!.*\b(?:not|don'?t|never|no|without)\b)(?:put|move|get|take|send|stick|throw|deploy"
    r"|launch)\b.*\b(?:in|on|into|to)\s+(?:the\s+)?(?:simulated|sim|paper)\b"
    # "... and have it paper trading by tomorrow"
    r"|^(?!.*\b(?:not|don'?t|never|no|without)\b).*\b(?:have|get|set|start)\s+(?:it|this|that"
    r"|them|the\s+(?:best|top|winner|winning)\w*(?:\s+(?:one|strat\w*|model|variant))?)\s+"
    r"(?:going\s+|running\s+)?(?:on\s+)?paper[- ]?trad\w*",
    re.I | re.A,
)


def instructs_halt(words: Instruction) -> bool:
    """Some clause of the user's own words tells the desk to stop trading."""
    return any(_HALT.match(command) for command in words.commands())


def instructs_paper_trade(words: Instruction) -> bool:
    """Some clause tells the desk to trade the strategy it finds (paper, or live)."""
    return not words.override and any(
        _PAPER_TRADE.match(command) or _ONTO_PAPER.search(command) for command in words.commands()
    )


def trades_said(words: Instruction) -> list[TradePhrase]:
    """Every well-formed trade instruction in the user's own words, wherever it stands."""
    found = (read_trade(command) for command in words.commands())
    return [t for t in found if isinstance(t, TradePhrase)]
