"""The approval card: what a human sees when an order waits for approval. One model, made
by the approval step and rendered by the CLI, Slack, the API and the web page. Its JSON is
agent-chat-ui's interrupt shape (`action_requests`, `review_configs`) plus the desk's
fields, so the graph's checkpoint and the API carry it unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ApprovalAnswer = Literal["approve", "edit", "reject"]


class _Card(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CardOrder(_Card):
    """The order as the approver sees it; `symbol` is `venue:symbol`."""

    order_id: str
    symbol: str
    side: str
    quantity: float
    limit_price: float | None = None
    strategy_id: str

    def line(self) -> str:
        return f"{self.side} {self.quantity:g} {self.symbol}"


class ActionRequest(_Card):
    name: Literal["submit_order"] = "submit_order"
    args: CardOrder
    description: str


class ReviewConfig(_Card):
    action_name: Literal["submit_order"] = "submit_order"
    allowed_decisions: tuple[ApprovalAnswer, ...] = ("approve", "edit", "reject")


class ApprovalCard(_Card):
    """An order waiting for approval: who must answer, why, and until when."""

    action_requests: tuple[ActionRequest, ...] = Field(min_length=1, max_length=1)
    review_configs: tuple[ReviewConfig, ...] = (ReviewConfig(),)
    order: CardOrder
    notional: float = Field(description="As the gate values the order.")
    gate_reasons: tuple[str, ...]
    risk: dict[str, Any] = Field(
        default_factory=dict, description="The risk agent's latest view of the portfolio."
    )
    approvals_needed: int = Field(ge=1, description="Distinct humans the gate requires.")
    approved_by: tuple[str, ...] = ()
    requested_at: datetime
    expires_at: datetime

    @property
    def description(self) -> str:
        return self.action_requests[0].description

    @property
    def approvers_line(self) -> str:
        return ", ".join(self.approved_by) or "nobody yet"

    def payload(self) -> dict[str, Any]:
        """The JSON the graph interrupts with and the API returns."""
        return self.model_dump(mode="json")
