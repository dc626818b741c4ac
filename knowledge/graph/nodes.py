"""What the graph holds, as pydantic models: every upsert takes these, never loose dicts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class GraphRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VenueRow(GraphRow):
    id: str = Field(min_length=1)
    name: str
    market: str = Field(min_length=1, description="Asset class the venue trades: crypto, equity…")


class InstrumentRow(GraphRow):
    id: str = Field(min_length=1, description="venue:SYMBOL, as the gateway names it")
    venue: str
    symbol: str
    base: str
    quote: str
    intervals: list[str] = Field(default_factory=list)
    tradable: bool = False
    bars: int = 0


class StrategyRow(GraphRow):
    key: str = Field(min_length=1)
    kind: str
    params: str = Field(description="The strategy spec as JSON")
    stage: str
    instrument: str
    gate_strategy: str = ""
    proposed_by: str = "research"
    risk_models: list[str] = Field(default_factory=list)


class BacktestRow(GraphRow):
    id: str
    strategy_key: str
    oos_sharpe: float
    in_sample_sharpe: float
    expected_max_drawdown: float
    expected_volatility: float
    trades: int
    folds: int
    method: str = "walk-forward"


class RiskModelRow(GraphRow):
    name: str
    kind: str
    params: str = "{}"


class LifecycleStepRow(GraphRow):
    strategy_key: str
    stage: str
    actor: str
    reason: str
    ts: datetime


class DecisionRow(GraphRow):
    id: str
    kind: str
    verdict: str
    reasons: list[str]
    order_id: str
    strategy_id: str
    action: str
    actor: str
    ts: datetime
    strategy_key: str | None = None


class ApprovalRow(GraphRow):
    id: str
    order_id: str
    approver: str
    answer: str
    reason: str
    ts: datetime


class CorrelationRow(GraphRow):
    a: str
    b: str
    weight: float = Field(ge=-1.0, le=1.0)
    window_days: int
    observations: int
    as_of: datetime
