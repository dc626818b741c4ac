"""What a request asks the desk to do: one typed intent, whichever router produced it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# What a router may classify a request as, each with its one-line meaning (the LLM router's
# prompt and tool schema are written from this table). `unknown` comes first: a request the
# desk cannot place is asked back, never guessed.
KIND_MEANINGS: dict[str, str] = {
    "unknown": "not a desk request, or too unclear to act on: the desk asks what is meant",
    "positions": "what the desk holds and its profit and loss (PnL)",
    "exposure": "gross and net exposure, by asset",
    "risk": "value at risk, expected shortfall, drawdown, volatility, limits, anomalies",
    "correlation": "how the returns of two or more assets move together",
    "price": "the latest price of an instrument",
    "tracking": "how a strategy's paper or live results track its backtest",
    "trade": "buy or sell an instrument: a quantity, or a percentage of the account",
    "close": "sell (or buy back) part or all of one holding: 'sell half our ETH'",
    "flatten": "close every position the desk holds",
    "cancel": "cancel the open (resting) orders",
    "halt": "stop all trading now: the kill switch",
    "resume": "resume trading after a halt (only a named human can re-arm)",
    "research": "find a strategy for an asset, optionally trade it on paper",
    "backtest": "backtest, sweep or walk-forward a named strategy",
    "promote": "promote a researched strategy to paper or to live trading",
    "report": "write the desk report",
    "data": "load, reload or check the quality of market data",
    "health": "whether the desk's services are up",
    "explain": "explain the desk's last decision",
}
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
# Kinds that move money or the trading state: a router may propose them only from the
# user's own words.
ACTING_KINDS = frozenset({"trade", "close", "flatten", "cancel", "halt"})
# The strategy families the research tools have (agents/research.py GRIDS, and ml_signal).
StrategyName = Literal["ts_momentum", "mean_reversion", "donchian", "sma_cross", "ml_signal"]
# "refused": the request's own instruction holds something the desk cannot read.
# "clarify": a router proposed something the request's words do not give (a quantity, an
# instrument, a side): the desk asks back instead of guessing.
IntentKind = Literal[RoutedKind, "refused", "clarify"]
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
