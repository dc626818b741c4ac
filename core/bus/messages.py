"""Typed bus messages. One discriminated union, so a subscriber decodes any of them and
refuses anything else. Encoding: compact JSON (pydantic, no whitespace) — readable in a
capture, and fast enough for the desk's rates (benchmarks/bus_latency.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from core.logs import trace_id_var


def _now() -> datetime:
    return datetime.now(UTC)


def _trace() -> str:
    """The trace being handled (a message's, bound by the bus worker), or a new one."""
    return trace_id_var.get() or uuid4().hex


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ts: datetime = Field(default_factory=_now)
    trace_id: str = Field(default_factory=_trace, max_length=64)


class Heartbeat(_Message):
    type: Literal["heartbeat"] = "heartbeat"
    agent: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0)
    pid: int = Field(ge=0)
    state: str = "ok"


class _OrderFields(_Message):
    order_id: str
    strategy_id: str
    instrument: str
    side: Literal["buy", "sell"]
    quantity: float = Field(gt=0, allow_inf_nan=False)


class OrderEvent(_OrderFields):
    type: Literal["order"] = "order"
    verdict: str
    reasons: list[str] = Field(default_factory=list)


class FillEvent(_OrderFields):
    type: Literal["fill"] = "fill"
    price: float = Field(gt=0, allow_inf_nan=False)
    fee: float = Field(ge=0, allow_inf_nan=False)
    position_after: float = Field(allow_inf_nan=False)
    equity: float = Field(allow_inf_nan=False)


class MarketBar(_Message):
    """A bar the desk trades against, on desk/md/{venue}/{symbol}: execution publishes each
    bar its gate receives ("gate"), the stream dataflow each bar it closes ("stream"); risk
    marks positions and measures volatility from both, execution gives its gate the stream's
    (agents/services/stream_marks.py) and never re-reads its own."""

    type: Literal["bar"] = "bar"
    instrument: str = Field(min_length=3, max_length=80)
    interval: str = Field(min_length=1, max_length=8)
    bar_ts: datetime
    open: float = Field(gt=0, allow_inf_nan=False)
    high: float = Field(gt=0, allow_inf_nan=False)
    low: float = Field(gt=0, allow_inf_nan=False)
    close: float = Field(gt=0, allow_inf_nan=False)
    volume: float = Field(ge=0, allow_inf_nan=False)
    source: Literal["gate", "stream"] = "gate"


class RiskCommand(_Message):
    """What risk orders execution and the gate to do. Only risk issues these."""

    type: Literal["risk_command"] = "risk_command"
    action: Literal["reduce", "halt_strategy", "kill_switch"]
    instrument: str | None = None
    strategy_id: str | None = None
    fraction: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False)
    reason: str = Field(min_length=1, max_length=500)
    issued_by: str = "risk"


class Alert(_Message):
    type: Literal["alert"] = "alert"
    severity: Literal["info", "warning", "critical"]
    source: str
    text: str = Field(min_length=1, max_length=2000)


class OrderRequest(_Message):
    """An agent asks execution for an order; the gate still decides."""

    type: Literal["order_request"] = "order_request"
    side: Literal["buy", "sell"]
    quantity: float = Field(gt=0, allow_inf_nan=False)
    symbol: str = Field(min_length=1, max_length=32)
    limit_price: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    strategy_id: str = "manual"
    requested_by: str = Field(min_length=1, max_length=64)


class Control(_Message):
    """Ask execution for its state, the desk's health or the recent daily closes it marks to,
    or (a human only) to rearm the gate."""

    type: Literal["control"] = "control"
    action: Literal["state", "health", "rearm", "marks"]
    actor: str = Field(default="unknown", max_length=64)
    reason: str = Field(default="", max_length=500)


class StateChange(_Message):
    """The gate's trading state moved (execution publishes it on its health key): who moved
    it and why. Risk restarts its drawdown count when a human rearms the account."""

    type: Literal["state_change"] = "state_change"
    scope: str = Field(default="account", max_length=80)
    state: Literal["active", "reducing", "halted"]
    actor: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


class LlmUsage(_Message):
    """One LLM call's tokens and estimated cost, from the process that made it (the PM's);
    the monitor sums the spend per hour."""

    type: Literal["llm_usage"] = "llm_usage"
    model: str = Field(min_length=1, max_length=120)
    prompt_version: str = Field(default="", max_length=120)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0, allow_inf_nan=False)
    latency_ms: float = Field(ge=0, allow_inf_nan=False)


class IngestRequest(_Message):
    """Load bundled datasets into the store (through its owner)."""

    type: Literal["ingest"] = "ingest"
    datasets: list[str] = Field(min_length=1, max_length=20)
    requested_by: str = Field(min_length=1, max_length=64)


class Reply(_Message):
    """A queryable's answer: ok with a JSON body, or an error text."""

    type: Literal["reply"] = "reply"
    ok: bool
    body: dict[str, object] = Field(default_factory=dict)
    error: str | None = None


BusMessage = Annotated[
    Heartbeat
    | OrderEvent
    | FillEvent
    | MarketBar
    | RiskCommand
    | Alert
    | OrderRequest
    | Control
    | StateChange
    | LlmUsage
    | IngestRequest
    | Reply,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[BusMessage] = TypeAdapter(BusMessage)


def encode(message: BusMessage) -> bytes:
    return message.model_dump_json().encode()


def decode(payload: bytes) -> BusMessage:
    """Raises pydantic.ValidationError on anything that is not one of the desk's messages."""
    return _ADAPTER.validate_json(payload)
