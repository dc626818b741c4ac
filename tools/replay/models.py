"""What a desk replay leaves behind, typed: one mark per simulated day, every fill, every
gate verdict with the policy's approval answer, every scheduled decision, the costs it ran
under and what its LLM calls cost. The report and the MLflow run read only this (and the
bars of the universe)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Router = Literal["rules", "llm"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DayMark(_Record):
    """The desk as of the end of one simulated day (after that day's bar and jobs)."""

    day: date
    equity: float
    cash: float
    gross: float
    net: float
    fees: float
    """Fees paid so far (cumulative)."""
    traded_notional: float
    """Notional filled that day (for turnover)."""
    trading_state: str


class FillRecord(_Record):
    at: datetime
    order_id: str
    strategy_id: str
    instrument: str
    side: Literal["buy", "sell"]
    quantity: float
    price: float
    fee: float


class VerdictRecord(_Record):
    """One order the desk asked for, what the gate said, and how the approval policy
    answered where the gate asked for a human."""

    at: datetime
    order_id: str
    instrument: str
    side: str
    quantity: float
    verdict: str
    reasons: list[str] = Field(default_factory=list)
    approval: str | None = None
    """"approved by policy", "refused by policy", an approver's name, or None."""


class StateChange(_Record):
    """The gate's trading state moved (a breaker, risk's reduce, a kill switch)."""

    at: datetime
    scope: str
    """"account" or a strategy id."""
    state: str
    actor: str
    reason: str


class DecisionRecord(_Record):
    """One scheduled request and what the desk did with it."""

    at: datetime
    job: str
    request: str
    trace: list[str]
    answers: list[str]
    routed_by: str = ""


class ReplayCosts(_Record):
    """The paper venue's costs the replay ran under (from the gate limits)."""

    taker_fee_bps: float
    slippage_bps: float
    half_spread_bps: float
    liquidity_fraction: float
    """Share of each print's size an order may take (the bar's open print is a quarter of
    its volume)."""


class LlmUsage(_Record):
    calls: int = 0
    """Calls that reached the model endpoint."""
    cached: int = 0
    """Calls answered from the replay's LLM cache."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    """Charged to the replay's results (a local model's cost is 0 unless priced)."""


class ReplayRun(_Record):
    start: date
    end: date
    universe: list[str]
    """Instruments as "venue:SYMBOL"."""
    cash: float
    router: Router
    approvals: str
    """The declared approval policy, as written on the command line."""
    marks: list[DayMark]
    fills: list[FillRecord]
    verdicts: list[VerdictRecord]
    decisions: list[DecisionRecord]
    states: list[StateChange] = []
    """Every move of the gate's trading state; in a replay nobody re-arms a halt or a
    reduce, so the last one holds to the end."""
    costs: ReplayCosts
    llm: LlmUsage = LlmUsage()
    probed_reads: int = 0
    """Results the leakage probe looked at (none was stamped after its simulated now)."""
    wall_s: float = 0.0
