"""What a request asks the desk to do: one typed intent, whichever router produced it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IntentKind = Literal[
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
    router: Literal["rules", "llm"] = "rules"
