"""The labelled paraphrase set (evals/paraphrases.yaml): requests as PMs and traders write
them, each with the intent a careful desk operator would read from it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graph.intents import ACTING_KINDS, Intent, RoutedKind, StrategyName

PARAPHRASES = Path(__file__).parent / "paraphrases.yaml"
HELD_OUT = PARAPHRASES.with_name("paraphrases_heldout.yaml")
"""Written blind, after the rules were tuned on PARAPHRASES. Since worked on (its misses
led to the second round of vocabulary and the order reader): a development set now."""
HELD_OUT_2 = PARAPHRASES.with_name("paraphrases_heldout2.yaml")
"""Written blind after that second round; its misses led to the third round's vocabulary
(a development set now)."""
HELD_OUT_3 = PARAPHRASES.with_name("paraphrases_heldout3.yaml")
"""Written blind before the third round was measured; since the fourth round, a
development set too (the rule router's kind reader learns from it)."""
HELD_OUT_4 = PARAPHRASES.with_name("paraphrases_heldout4.yaml")
"""Written blind before the fourth round was measured; worked on in a later round (its first
figures in evals/RESULTS.md are the blind ones); never trained on (graph/kind_reader.py
CORPUS leaves it out)."""
HELD_OUT_5 = PARAPHRASES.with_name("paraphrases_heldout5.yaml")
"""Written blind before the fifth round was measured; as held-out-4, worked on later,
never trained on."""
HELD_OUT_6 = PARAPHRASES.with_name("paraphrases_heldout6.yaml")
"""Written blind after the fifth round, before the sixth measurement; the seventh round
was worked on against it; never trained on."""
HELD_OUT_7 = PARAPHRASES.with_name("paraphrases_heldout7.yaml")
"""Written blind while the seventh round was worked on (on held-out-6), measured after it;
its three unsafe outcomes then mended in general form; never trained on."""
HELD_OUT_8 = PARAPHRASES.with_name("paraphrases_heldout8.yaml")
"""Written blind while the eighth round was worked on (on held-out-7), measured after it;
the ninth round was worked on against it; never trained on."""
HELD_OUT_9 = PARAPHRASES.with_name("paraphrases_heldout9.yaml")
"""Written blind while the ninth round was worked on (on held-out-8), measured after it;
never trained on."""
HELD_OUT_10 = PARAPHRASES.with_name("paraphrases_heldout10.yaml")
"""Written blind while the tenth and eleventh rounds were worked on, measured after them;
never trained on."""
HELD_OUT_11 = PARAPHRASES.with_name("paraphrases_heldout11.yaml")
"""Written blind while the twelfth round was worked on (on held-out-10), measured after it;
never trained on."""
HELD_OUT_12 = PARAPHRASES.with_name("paraphrases_heldout12.yaml")
"""Written blind while the thirteenth round was worked on (on held-out-11), measured after
it; never trained on."""
HELD_OUT_13 = PARAPHRASES.with_name("paraphrases_heldout13.yaml")
"""Written blind while the fourteenth round was worked on (on held-out-12), measured after
it; never trained on."""
HELD_OUT_14 = PARAPHRASES.with_name("paraphrases_heldout14.yaml")
"""Written blind while the fifteenth round was worked on (on held-out-13), measured after
it; never trained on."""
HELD_OUT_15 = PARAPHRASES.with_name("paraphrases_heldout15.yaml")
"""Written blind while the sixteenth round was worked on (on held-out-14), measured after
it; never trained on."""
HELD_OUT_16 = PARAPHRASES.with_name("paraphrases_heldout16.yaml")
"""Written blind while the seventeenth round was worked on (on held-out-15), measured
after it; never trained on."""
HELD_OUT_17 = PARAPHRASES.with_name("paraphrases_heldout17.yaml")
"""Written blind while the eighteenth round was worked on (on held-out-16), measured after
it; never trained on."""
HELD_OUT_18 = PARAPHRASES.with_name("paraphrases_heldout18.yaml")
"""Written blind while the nineteenth round was worked on (on held-out-17), measured after
it; never trained on."""
HELD_OUT_19 = PARAPHRASES.with_name("paraphrases_heldout19.yaml")
"""Written blind after the twentieth round (worked on against held-out-18), measured after
it; never trained on."""
SETS = {
    "main": PARAPHRASES, "held-out": HELD_OUT, "held-out-2": HELD_OUT_2, "held-out-3": HELD_OUT_3,
    "held-out-4": HELD_OUT_4, "held-out-5": HELD_OUT_5, "held-out-6": HELD_OUT_6,
    "held-out-7": HELD_OUT_7, "held-out-8": HELD_OUT_8, "held-out-9": HELD_OUT_9,
    "held-out-10": HELD_OUT_10, "held-out-11": HELD_OUT_11,
    "held-out-12": HELD_OUT_12, "held-out-13": HELD_OUT_13,
    "held-out-14": HELD_OUT_14, "held-out-15": HELD_OUT_15,
    "held-out-16": HELD_OUT_16, "held-out-17": HELD_OUT_17,
    "held-out-18": HELD_OUT_18, "held-out-19": HELD_OUT_19,
}  # fmt: skip
# `clarify` is what a router should answer when the words give no quantity, side or
# instrument: the desk asks back rather than guess.
ExpectedKind = Literal[RoutedKind, "clarify"]
Dataset = Literal["crypto", "goog", "eurusd", "btcusd_monthly"]
FamilyName = Literal[
    "positions", "pnl", "exposure", "var", "correlation", "price", "data_reload",
    "data_quality", "sweep", "walk_forward", "research_asset", "research_family",
    "paper_trade", "promote", "report", "health", "halt", "resume", "flatten",
    "partial_close", "percent_sizing", "trade", "limit_order", "cancel", "explain",
    "trading_words_question", "negation", "injection", "ambiguous", "offtopic",
]  # fmt: skip


class Family(NamedTuple):
    minimum: int
    """Items the full set must hold: more for the families that move money or guard it."""
    kinds: frozenset[str]
    """The kinds an item of the family may be labelled with."""


def _family(minimum: int, *kinds: str) -> Family:
    return Family(minimum, frozenset(kinds))


# Questions, negations and injections are answered by whatever the user's own words ask,
# but never by a kind that acts.
_NOT_ACTING = frozenset(get_args(ExpectedKind)) - ACTING_KINDS
FAMILIES: dict[FamilyName, Family] = {
    "positions": _family(6, "positions"),
    "pnl": _family(6, "positions"),
    "exposure": _family(6, "exposure"),
    "var": _family(6, "risk"),
    "correlation": _family(6, "correlation"),
    "price": _family(6, "price"),
    "data_reload": _family(6, "data"),
    "data_quality": _family(6, "data"),
    "sweep": _family(6, "backtest"),
    "walk_forward": _family(6, "backtest"),
    "research_asset": _family(6, "research"),
    "research_family": _family(6, "research"),
    "paper_trade": _family(10, "research"),
    "promote": _family(10, "promote"),
    "report": _family(6, "report"),
    "health": _family(6, "health"),
    "halt": _family(10, "halt"),
    "resume": _family(10, "resume"),
    "flatten": _family(10, "flatten"),
    "partial_close": _family(10, "close"),
    "percent_sizing": _family(10, "trade"),
    "trade": _family(10, "trade"),
    "limit_order": _family(10, "trade"),
    "cancel": _family(10, "cancel"),
    "explain": _family(6, "explain"),
    "trading_words_question": Family(10, _NOT_ACTING),
    "negation": Family(10, _NOT_ACTING),
    "injection": Family(10, _NOT_ACTING),
    "ambiguous": _family(10, "clarify"),
    "offtopic": _family(6, "unknown"),
}


class ParaphraseSetError(ValueError):
    """The set does not load: the message names the item and the field."""


class Expect(BaseModel):
    """The intent a request should give: its kind and only the fields that matter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ExpectedKind
    symbol: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    """The bare base the user named: BTC, ETH, GOOG, LTC."""
    side: Literal["buy", "sell"] | None = None
    quantity: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    limit_price: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    fraction: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    strategy: StrategyName | None = None
    stage: Literal["paper", "live"] | None = None
    paper_trade: bool | None = None
    dataset: Dataset | None = None

    def labelled(self) -> dict[str, object]:
        """The fields besides the kind that this label holds a router to."""
        return {k: v for k, v in self.model_dump(exclude={"kind"}).items() if v is not None}

    @model_validator(mode="after")
    def _fits_an_intent(self) -> Expect:
        # A label must be something a router could answer: checked against the intent
        # model itself, so a field it drops or narrows shows up here.
        try:
            kind = "unknown" if self.kind == "clarify" else self.kind
            Intent.model_validate({"kind": kind, **self.labelled()})
        except ValidationError as exc:
            raise ValueError(f"not a valid intent: {exc.errors()[0]['msg']}") from None
        return self


class Paraphrase(BaseModel):
    """One labelled request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+-[0-9]{2,4}$")
    family: FamilyName
    text: str = Field(max_length=2000)
    expect: Expect

    @model_validator(mode="after")
    def _kind_fits_family(self) -> Paraphrase:
        if self.expect.kind not in FAMILIES[self.family].kinds:
            raise ValueError(f"a {self.family} item cannot expect kind {self.expect.kind}")
        return self


def _duplicates(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def load_paraphrases(path: Path = PARAPHRASES, family: str | None = None) -> list[Paraphrase]:
    """The whole set, validated (unique ids and texts), optionally one family of it."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ParaphraseSetError(f"{path.name}: expected a list of items")
    items: list[Paraphrase] = []
    for n, entry in enumerate(raw):
        try:
            items.append(Paraphrase.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("id", f"item {n}") if isinstance(entry, dict) else f"item {n}"
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ParaphraseSetError(f"{path.name}: {name}: {where}: {first['msg']}") from None
    for what, values in (("id", [i.id for i in items]), ("text", [i.text for i in items])):
        if dupes := _duplicates(values):
            raise ParaphraseSetError(f"{path.name}: duplicate {what}s: {dupes[:5]}")
    if family is not None:
        if family not in FAMILIES:
            raise ParaphraseSetError(f"no family {family!r}; families: {', '.join(FAMILIES)}")
        items = [i for i in items if i.family == family]
    return items
