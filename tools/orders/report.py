"""What the order operations report: the gate's verdict on an order and where it stands, a
reduce's orders, a cancel's or a halt's canceled orders, or why nothing was sent. Each is
typed for the execution agent, the approval step and anyone reading their results (the
graph state keeps its JSON, `model_dump()`), and says itself in one line."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models.trading import Order
from gateway import GateDecision, Gateway


class OrderResult(BaseModel):
    """One operation's outcome: its JSON is the graph state's, `line()` what people read."""

    model_config = ConfigDict(frozen=True)

    def line(self) -> str:
        raise NotImplementedError


class OrderError(OrderResult):
    """Why an operation sent nothing: an unknown symbol, an order that cannot be sized."""

    error: str

    def line(self) -> str:
        return self.error


class ExecutionReport(OrderResult):
    order_id: str
    symbol: str
    """`venue:symbol`."""
    side: str
    quantity: float
    verdict: str
    reasons: list[str]
    status: str
    """The order's status at the gate, or "not taken" when it never got one (denied)."""
    filled: float

    def line(self) -> str:
        reasons = ", ".join(self.reasons)
        return (
            f"{self.side} {self.quantity:g} {self.symbol}: {self.verdict}"
            + (f" ({reasons})" if reasons else "")
            + f"; status {self.status}, filled {self.filled:g}"
        )


def execution_report(gateway: Gateway, order: Order, decision: GateDecision) -> ExecutionReport:
    status = gateway.order_status(order.order_id)
    return ExecutionReport(
        order_id=str(order.order_id),
        symbol=f"{order.venue_id}:{order.symbol}",
        side=order.side.value,
        quantity=order.quantity,
        verdict=decision.verdict.value,
        reasons=list(decision.reason_codes),
        status=status[0] if status else "not taken",
        filled=status[1] if status else 0.0,
    )


class ReduceResult(OrderResult):
    """A reduce, close or flatten: the reduce-only orders sent, one report each."""

    reduced: list[ExecutionReport]
    # How the line names the operation; the state's JSON keeps only the reports.
    verb: str = Field(default="reduced", exclude=True)
    instrument: str | None = Field(default=None, exclude=True)

    def line(self) -> str:
        held = f" in {self.instrument}" if self.instrument else ""
        return f"{self.verb}: " + (
            "; ".join(f"{r.side} {r.quantity:g} {r.symbol} {r.verdict}" for r in self.reduced)
            or f"nothing held{held}, nothing sent"
        )


class CancelResult(OrderResult):
    """The resting orders canceled, all or those of one named instrument."""

    canceled: list[str]
    symbol: str | None = Field(default=None, exclude=True)
    """As the request named it, for the line."""

    def line(self) -> str:
        where = f" in {self.symbol}" if self.symbol else ""
        if self.canceled:
            return f"canceled {len(self.canceled)} open orders{where}"
        return f"no open orders{where} to cancel"


class HaltResult(OrderResult):
    """The kill switch thrown: the desk halted and its open orders canceled."""

    halted: Literal[True] = True
    canceled: list[str]

    def line(self) -> str:
        return f"HALTED: {len(self.canceled)} open orders canceled; rearming needs a human."
