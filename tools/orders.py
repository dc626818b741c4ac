"""What execution reports about an order it sent: the gate's verdict and reasons, and where
the order stands. One typed report for the execution agent, the approval step and anyone
reading their results (the graph state keeps its JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.models.trading import Order
from gateway import GateDecision, Gateway


class ExecutionReport(BaseModel):
    model_config = ConfigDict(frozen=True)

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
