"""What a request asks the desk to do: one typed intent, whichever router produced it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What a router may classify a request as. An LLM is offered exactly these.
RoutedKind = Literal[
    "research",
    "backtest",
    "trade",
    "positions",
    "exposure",
    "risk",
    "halt",
    "report",
    "data",
    "health",
    "explain",
    "unknown",
]
# "refused": the request's own instruction holds something the desk cannot read.
IntentKind = Literal[RoutedKind, "refused"]
RefusedPart = Literal["quantity", "limit price", "symbol"]
RouterName = Literal["rules", "llm"]
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
    strategy: str | None = Field(default=None, max_length=32)
    paper_trade: bool = False
    dataset: str | None = Field(default=None, max_length=32)
    router: RouterName = "rules"
    router_note: str | None = Field(default=None, max_length=300)
    """Why the configured model did not decide (invalid output, budget spent, endpoint down)."""
    refusal: Refusal | None = None
    """Why the request is refused; set exactly when `kind` is "refused"."""

    @model_validator(mode="after")
    def _refusal_matches_kind(self) -> Intent:
        if (self.kind == "refused") != (self.refusal is not None):
            raise ValueError("a refused intent carries its refusal, and only it does")
        return self

    @property
    def routed_by(self) -> str:
        """Which router decided, and why the model was skipped when it was."""
        return self.router + (f" ({self.router_note})" if self.router_note else "")
