"""What a request asks the desk to do: one typed intent, whichever router produced it. The
routers (graph/) make it; the agents read it from the graph state (agents/results.py keeps
its JSON typed), so it lives below both."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.models.enums import RouterName

# What a router may classify a request as; graph/intents.py KIND_MEANINGS gives each its
# one-line meaning (the LLM router's prompt and tool schema are written from that table).
RoutedKind = Literal[
    "unknown",
    "positions",
    "exposure",
    "risk",
    "correlation",
    "price",
    "tracking",
    "trade",
    "close",
    "flatten",
    "cancel",
    "halt",
    "resume",
    "research",
    "backtest",
    "promote",
    "report",
    "data",
    "health",
    "explain",
]
# "refused": the request's own instruction holds something the desk cannot read.
# "clarify": a router proposed something the request's words do not give (a quantity, an
# instrument, a side): the desk asks back instead of guessing.
IntentKind = Literal[RoutedKind, "refused", "clarify"]
RefusedPart = Literal["quantity", "limit price", "symbol"]
"""Who read a request: the rule grammar or the configured model."""


class Refusal(BaseModel):
    """Part of the request's instruction the desk could not read (a quantity of zero, an
    exponent, a non-ASCII digit, an over-long symbol): it is refused, never guessed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: RefusedPart
    given: str = Field(max_length=48)
    """What the request said, shortened."""
    reason: str = Field(max_length=200)

    @property
    def message(self) -> str:
        return f"not understood: {self.subject} {self.given!r}: {self.reason}"


class Intent(BaseModel):
    """A request parsed into the desk's vocabulary. Quantities and prices are proposals:
    the gate decides whether any order goes anywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: IntentKind
    symbol: str | None = Field(default=None, max_length=32)
    side: Literal["buy", "sell"] | None = None
    quantity: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    limit_price: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    fraction: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    """A share the request names ("half", "10%"): of the holding for `close`, of the
    account's equity for `trade`. The quantity is then computed from the desk's state."""
    strategy: str | None = Field(default=None, max_length=32)
    stage: Literal["paper", "live"] | None = None
    """For `promote`: where the strategy should go."""
    paper_trade: bool = False
    dataset: str | None = Field(default=None, max_length=32)
    router: RouterName = "rules"
    router_note: str | None = Field(default=None, max_length=300)
    """Why the configured model did not decide (invalid output, budget spent, endpoint down)."""
    refusal: Refusal | None = None
    """Why the request is refused; set exactly when `kind` is "refused"."""
    question: str | None = Field(default=None, max_length=300)
    """What the desk asks back; set exactly when `kind` is "clarify"."""

    @model_validator(mode="after")
    def _refusal_matches_kind(self) -> Intent:
        if (self.kind == "refused") != (self.refusal is not None):
            raise ValueError("a refused intent carries its refusal, and only it does")
        if (self.kind == "clarify") != (self.question is not None):
            raise ValueError("a clarify intent carries its question, and only it does")
        return self

    @property
    def routed_by(self) -> str:
        """Which router decided, and why the model was skipped when it was."""
        return self.router + (f" ({self.router_note})" if self.router_note else "")
