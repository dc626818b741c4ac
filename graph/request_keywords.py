"""The rule router's vocabulary: the keywords that name what a request asks to see, the
strategy families and datasets by the names people use, and the shapes of a general
question or a negation. Read by graph/rule_router.py; the model's guard reads the strategy
names too (graph/intent_guard.py)."""

from __future__ import annotations

import re

from graph.directives import HALT_MENTION
from graph.intents import IntentKind

# What people call each strategy family, as patterns read from the start of a word.
STRATEGIES = {
    # Each family also by the desk's own name for it ("sweep the ml_signal windows").
    r"momentum|trend[- ]?follow|trend[- ]?(?:strat|system|model)|ts_momentum|ts[- ]?mom\b"
    r"|time[- ]series\s+mom": "ts_momentum",
    r"mean[- ]?rever|mean[- ]rev\b|z[- ]?score|mean_reversion|reversion[- ]to\b": "mean_reversion",
    r"break[- ]?out|donchian|channel": "donchian",
    r"cross[- ]?over|moving[- ]average|sma\b|sma_cross|golden[- ]cross|death[- ]cross": "sma_cross",
    r"machine[- ]learning|ml\b|ml_signal": "ml_signal",
}
DATASETS = ("crypto", "goog", "eurusd", "btcusd_monthly")


def strategy_named(text: str) -> str | None:
    """The strategy family `text` names ("momentum", "breakout", "ML"), if any."""
    lowered = text.lower()
    return next((v for k, v in STRATEGIES.items() if re.search(rf"\b(?:{k})", lowered)), None)


# Checked in order: the first pattern that matches names the intent. A mention of a halt
# that is not an instruction to halt ("is the kill switch armed?") asks for the desk's state.
KEYWORDS: tuple[tuple[IntentKind, re.Pattern[str]], ...] = (
    (
        "health",
        re.compile(
            r"\bping\b|\bis\s+(?:everything|it|the\s+(?!(?:\w+\s+)?(?:positions?|holdings?|trades?|book"
            r"|pnl|longs?|shorts?|stake)\b)\w+(?:\s+\w+)?)\s+"
            r"(?:up|running|responding|online|alive|down)\b"
            r"|\b(?:infra\w*|health\s*-?checks?|healthcheck|the\s+stack|uptime|servers?"
            r"|status\s+page|components?|heartbeats?|broker\s+connection|(?:un)?reachable"
            r"|f[ae]ll(?:en)?\s+over)\b"
            r"|\b(?:is|are)\s+(?:the\s+|our\s+|we\s+)?(?:[\w-]+\s+){0,4}(?:dis)?connected\b"
            r"|\b(?:services?|connections?|connectivity)\b.*\b(?:green|ok|okay|up|down|healthy)\b",
            re.I,
        ),
    ),
    (
        "explain",
        re.compile(
            r"\b(explain|why|walk\s+me\s+through|reasoning|rationale|how\s+come)\b"
            r"|\bwhat\s+made\s+(?:you|it|the\s+(?:desk|system|bot|algo|model))\b|\bjustify\b"
            r"|\bwhat\s+(?:logic|reasoning|thinking)\b|\bbreak\s+(?:it|that|this)\s+down\b"
            r"|\bled\s+to\s+(?:that|this|the)\s+(?:outcome|decision|result|call|move)\b"
            # "what made the gate say no?": the cause of a refusal or a move.
            r"|\bwhat\s+(?:made|caused|led\s+to|triggered)\b.*\b(?:say\s+no|said\s+no|reject\w*"
            r"|refus\w*|block\w*|den(?:y|ied)|declin\w*|turn\w*\s+down|veto\w*|halt\w*|trip\w*)",
            re.I,
        ),
    ),
    (
        "promote",
        re.compile(
            r"\b(promote|graduate|go\s+live\s+with|into\s+live|(?:goes|going)\s+live"
            r"|green[- ]?light)\b"
            r"|\b(move|push|take|put|send|bump|shift|upgrade|migrate|roll|switch|ship|deploy"
            r"|release|advance|elevate|progress)\b.*\b(?:on|in)?to\s+(?:the\s+)?(paper|live|prod"
            r"|production)\b"
            r"|\btake\b.*\blive\b"
            r"|\b(?:put|send|move|push|flip|switch|turn)\s+(?:the\s+|our\s+)?(?:[\w/-]+\s+){0,3}"
            r"(?:strat\w*|model|system|algo)\s+live\b",
            re.I,
        ),
    ),
    (
        "tracking",
        re.compile(
            r"\b(paper|live)\b.*\b(vs\.?|versus|against|compared?|match|track|line up|with)\b"
            r"|\b(backtests?|back-tests?)\b.*\b(vs\.?|versus|against|compared?|match|track)\b"
            r"|\bdecay|\bperformance\b(?!\s+(?:report|review|summary|write[- ]?up))"
            r"|\brealis(?:ed|ing)\s+(?:performance|results?|returns?|sharpe|pnl|p&l)\b",
            re.I,
        ),
    ),
    (
        "backtest",
        re.compile(
            r"\b(back-?test|sweep|walk[- ]?f(?:or)?w(?:ar)?d|wfo|grid|parameter|optimi[sz]e|tune"
            r"|out[- ]of[- ]sample|oos\b|walk\s+(?:it|them|this|that)\s+forward|wfa?\b|anchored"
            r"|combos\b|combinations\b|heat-?maps?\b|hyper-?param\w*|random\s+search)",
            re.I,
        ),
    ),
    (
        "research",
        re.compile(
            r"\b(research|find|look\s+(?:for|at|into)|search|discover|investigate|explore|dig"
            r"|stud(?:y|ies|ying)|homework|worth\s+trading|opportunit(?:y|ies)"
            r"|digging"
            r"|strategy|strategies|strat|momentum|reversion|breakout|trend|crossovers?|edge"
            r"|alpha|signal)\b",
            re.I,
        ),
    ),
    (
        "correlation",
        re.compile(
            r"\b(correl\w*|corrs?\b|rho\b|pearson|spearman|linked|how\s+tightly|mov(?:e|es|ed|ing)\s+(?:in\s+)?(?:together|with|lockstep|sync)"
            r"|lock-?step|co-?move\w*|co-?movement|diversif\w*|de-?coupl\w*)",
            re.I,
        ),
    ),
    (
        "exposure",
        re.compile(
            r"\b(expos\w*|(?:over|under)-?expos\w*|expsoure|net\s+long|net\s+short|leverage\w*|levered|notional"
            r"|gross(?!\s+(?:pnl|p&l|p/l|profits?|returns?|margin|gains?|loss))|dollar\s+delta"
            r"|concentrat\w*|tied\s+up\s+in)\b",
            re.I,
        ),
    ),
    (
        "data",
        re.compile(
            r"\b(?:data\s+quality|quality\s+(?:report|check)|data\s+gaps?|back-?fill\w*"
            r"|price\s+history|(?:re-?)?sync\w*\b.*\b(?:store|feed|data|bars|vendor))\b",
            re.I,
        ),
    ),
    (
        "report",
        re.compile(
            r"\b(report|rpt|summary|recap|write[- ]?up|briefing|tear\s*-?sheets?"
            r"|(?:eod|end[- ]of[- ]day|daily|morning)\s+(?:pack|note|update))\b",
            re.I,
        ),
    ),
    (
        "risk",
        re.compile(
            r"\b(risk|risky|var|value\s+at\s+risk|drawdowns?|volatility|volatile|vol|shortfall"
            r"|es|cvar|limits?|anomal\w*|tail|peak[- ]to[- ]trough|dd)\b"
            # What could be lost, not what was: "how much could we lose on a bad day".
            r"|\b(?:could|might|would|can)\s+we\s+(?:\w+\s+)?lose\b|\bworst[- ]case\b",
            re.I,
        ),
    ),
    (
        "positions",
        re.compile(
            r"\b(positions?|positons?|pos|posn|holdings?|holding|hold|own|pnl|p&l|p/l|profit|loss|losses"
            r"|make|made|making|lost|losing|up\s+or\s+down|inventory|bags?|portfolio"
            r"|(?:the|our|my|whole|entire)\s+book"
            r"|green|red|carry|carrying|got\s+on)\b|\blong\b.*\bshort\b|\bup\b.*\bdown\b"
            r"|\b(?:open|live|current|our)\s+lines\b|\bon\s+hand\b|\bunderwater\b"
            r"|\bmark[- ]to[- ]market\b|\bmtm\b|\bqty\s+(?:on|of|in)\b"
            r"|\bhow(?:'d|\s+did|\s+are|\s+have)\s+we\s+(?:do|doing|done)\b"
            r"|\b(?:are\s+we|we'?re|we\s+are)\s+(?:up|down)\b"
            r"|\b(?:do|did)\s+we\b.*\b(?:have|hold|own|buy|sell|trade)"
            r"|\bmoney[- ]?wise\b|\b(?:vs\.?|versus|against|compared\s+to)\s+yesterday"
            r"|\b(?:did|has|have)\b.*\b(?:fill|filled|get\s+filled|go\s+through|execute)\b"
            r"|\bhow\s+(?:big|large)\s+is\s+(?:the|our)\s+(?:long|short)\b",
            re.I,
        ),
    ),
    (
        "price",
        re.compile(
            r"\b(price|prices|priced|quote|trading\s+at|worth|costs?|last\s+close|how\s+much\s+is"
            r"|where\s+is\s+\w+|where'?s\s+\w+|ticker)\b"
            r"|\bwhat(?:'s|\s+is)\s+\S+\s+(?:at|trading|printing)\b|\blast\s*\?|\blast\s+print"
            r"|\bpx\b|\bprinting\s+at\b|\bgoing\s+for\b|\bmark\s+(?:on|for)\b"
            r"|\bbid\s*(?:/|-|and)\s*(?:ask|offer)\b|\bspread\s+(?:on|for|in)\b"
            r"|\bmid(?:[- ]?price|[- ]?market)?\b(?![- ](?:cap|day|week|month|term))"
            r"|\bvalue\s+of\s+(?:one|1|a|an)\s+\w+",
            re.I,
        ),
    ),
    (
        "data",
        re.compile(
            r"\b(load|reload|re-load|ingest|fetch|refresh|data|bars|candles|quality|gaps?"
            r"|stale|outliers?|feeds?)\b",
            re.I,
        ),
    ),
    ("health", re.compile(r"\b(health|healthy|status|alive|up\s+and\s+running|services?)\b", re.I)),
    ("health", HALT_MENTION),
)
# A question about trading itself, not about the desk ("what does a stop loss do?", "how
# does the kill switch work?"): nothing to look up or do, the desk says what it can.
GENERAL_QUESTION = re.compile(
    r"^(?:(?:in\s+your\s+(?:opinion|view|experience)|generally(?:\s+speaking)?|honestly"
    r"|out\s+of\s+curiosity|just\s+curious)[,\s]+)?"
    r"(?:what\s+(?:does|do|is|are)\s+(?:a|an)\s|what'?s\s+(?:a|an)\s"
    r"|what'?s\s+the\s+(?:difference|diff)\s+between|is\s+it\s+(?:smart|wise|sensible|a\s+good"
    r"\s+idea|a\s+bad\s+idea|dumb|crazy)\s+to\b|how\s+do(?:es)?\s+(?:i|you|one|a|an|the)\b"
    r"|define\b|is\s+(?:buying|selling|shorting)\b|should\s+i\b"
    # "how does flattening work?", "what happens if I halt?", "if I type halt, what stops?"
    r"|how\s+do(?:es)?\s+\w+ing\b|what\s+happens\s+(?:if|when)\b|how\s+would\s+(?:i|we|one|you)\b"
    r"|if\s+(?:i|we|you|someone)\s+(?:type|say|send|write|hit|press|click|run|use)\b"
    r"|how\s+(?:many|long)\s+(?:days|weeks|hours|months|sleeps)\s+(?:until|till|to|before)\b"
    # Who may do what on the desk is its policy, not its state.
    r"|who\s+(?:has|have|holds?|gets?)\s+(?:the\s+)?(?:authority|right|permission|power|say)\b"
    r"|who\s+(?:can|may|is\s+allowed\s+to|is\s+able\s+to|gets\s+to)\b"
    r"|when\s+(?:should|would|do|does)\s+(?:you|one|i|we|people|traders)\s+(?:use|pick|choose"
    r"|prefer|want)\b"
    r"|(?:when|how|why)\s+(?:would|should|do|does)\s+(?:you|one|people|traders)\s+"
    r"(?:normally|usually|typically|generally)\b)",
    re.I,
)
# "if I flatten the book, does that also cancel resting orders?": what an action would do is
# a question about the desk's rules, asked across a clause break ("if I bought 0.5 BTC, how
# would that change our VaR?" asks about the desk's risk, and stays that).
WHAT_IT_DOES = re.compile(
    r"^if\s+(?:i|we|you|someone)\s+[^?]*?\s(?:does|do|will|would)\s+(?:that|it|this)\s+"
    r"(?:also\s+|still\s+|automatically\s+)?(?:cancel|close|halt|stop|flatten|kill|clear|wipe"
    r"|remove|pull|trigger|reset|liquidate|unwind)\b"
    # "when you halt, do resting orders get cancelled too?"
    r"|^(?:when|once|after|if)\s+(?:i|we|you|someone|the\s+desk)\s+(?:halt|flatten|kill|cancel"
    r"|close|stop|liquidate|unwind)\w*\b[^?]*?\s(?:do|does|will|would|are|is)\s[^?]*?"
    r"\b(?:cancel|close|halt|stop|flatten|kill|clear|wipe|remove|pull|trigger|reset|liquidate"
    r"|unwind)\w*",
    re.I,
)
# Contentment with how things stand ("it's fine where it is", "we're good as we are"):
# beside a refusal to act, nothing more is asked.
CONTENT = re.compile(
    r"^(?:it'?s|it\s+is|we'?re|we\s+are|that'?s|that\s+is|i'?m|all\s+is|everything'?s"
    r"|everything\s+is)\s+(?:fine|good|ok|okay|alright|all\s+right|happy)\b"
    # "hold off on flattening, let's wait for the CRO"
    r"|(?:let'?s\s+|we'?ll\s+|i'?ll\s+)?wait\s+(?:for|until|till|and\s+see)\b"
    # "don't liquidate anything, I was just thinking out loud"
    r"|(?:i\s+was|i'?m|we\s+were|we'?re)\s+(?:just\s+)?(?:thinking(?:\s+out\s+loud)?|musing"
    r"|wondering|brainstorming|venting|kidding|joking)\b"
    # "we're holding through the event"
    r"|(?:we'?re|we\s+are|i'?m|we'?ll|i'?ll)\s+(?:hold(?:ing)?|keep(?:ing)?|sit(?:ting)?\s+on"
    r"|stay(?:ing)?)\b(?:\s+(?:it|them|this|that|on|in))?\s+(?:through|into|over|until|till|past)\b",
    re.I,
)
# A clause that hands something over ("here's the research note I mentioned", "attached is
# the report"): a statement, not what is asked.
HANDED = re.compile(
    r"^(?:(?:ok|so|and|also)\s+)?(?:here'?s|here\s+(?:is|are)|attached(?:\s+(?:is|are))?|attaching"
    r"|fyi|as\s+(?:i|we)\s+(?:mentioned|said))\b",
    re.I,
)
# Small talk, all of it ("happy friday all!!", "gm team"): nothing is asked of the desk.
SMALL_TALK = re.compile(
    r"^(?:happy\s+(?:friday|monday|weekend|holidays?|new\s+year|\w+day)|good\s+(?:morning|afternoon"
    r"|evening|night)|hi|hello|hey|yo|thanks|thank\s+you|thx|cheers|gm|gn|ty|bye|lol|haha"
    r"|have\s+a\s+(?:good|great|nice)\s+(?:one|day|weekend|evening))"
    r"(?:\s+(?:all|everyone|team|folks|guys|y'?all|everybody|desk|bot))?[\s!.,:;)]*$",
    re.I,
)
# Work on a text the request carries ("summarise this for me: ...", "translate the
# following"): no desk request, whatever the text says.
TEXT_TASK = re.compile(
    r"^(?:(?:pls|please|can\s+you|could\s+you|can\s+u)\s+)?(?:summari[sz]e|translate|rewrite"
    r"|proofread|paraphrase|reword|tl;?dr)\s+(?:this|that|the\s+following|it|the\s+(?:email|text"
    r"|message|note|paragraph))\b",
    re.I,
)
NEGATED = re.compile(
    r"^(?:(?:no|nah|ok|okay|pls|please|plz|kindly)[,\s]+)?(?:don'?t|do\s+not|dont|never|not\s+now|let'?s\s+not"
    r"|i\s+(?:don'?t|do\s+not)|we\s+(?:don'?t|do\s+not)|hold\s+off|no\s+need\s+to"
    r"|never\s*mind|nevermind|forget"
    # "we are NOT selling", "I won't close it": the speaker says what will not be done.
    r"|(?:we|i)(?:\s+(?:are|am|will|shall|should|must|did|can)\s+not|\s*['\u2019](?:re|m|ll)\s+not"
    r"|\s+(?:aren'?t|won'?t|shouldn'?t|mustn'?t|can'?t|didn'?t|never))"
    # "no halt pls", "no selling today" (but "no more trading" is a halt, read before this).
    r"|no\s+(?:halt\w*|kill\w*|flatten\w*|selling|buying|closing|cancel\w*|liquidat\w*"
    r"|unwind\w*|trades?\s+(?:on|in)\b)"
    # "leave the ETH position alone", "leave it as is".
    r"|leave\b(?=.*\b(?:alone|untouched|as\s+(?:it\s+)?is|be|halted|paused|frozen|stopped)\b)"
    # "repeat, not halting"; "hold the BTC buy" (keep it from being sent).
    r"|(?:(?:i\s+)?repeat[,:]?\s+|again[,:]?\s+)?not\s+\w+ing"
    r"|hold\s+(?:the|that|this|our|my)\s+(?:\w+\s+){0,2}(?:buy|sell|order|trade)s?"
    r"|hold\s+fire)\b",
    re.I,
)


BARE_NEGATION = re.compile(r"(?:do\s+not|don'?t|never|not)(?:\s+ever)?", re.I)
