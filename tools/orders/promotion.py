"""A reviewed strategy goes on paper with its first order the gate accepts: the order is
the evidence, so the step is taken where the order is sent (execution, or approval)."""

from __future__ import annotations

from core.models.trading import Order
from core.store import Store
from gateway import GateDecision
from tools.lifecycle import Lifecycle


def promote_to_paper(store: Store, key: str | None, decision: GateDecision, order: Order) -> None:
    """Record strategy `key` on paper if the gate accepted `order` and the strategy is
    still only reviewed; anything else (no strategy, a refusal, a later order) changes
    nothing."""
    if key and decision.accepted and Lifecycle(store).stage(key) == "reviewed":
        Lifecycle(store).record(key, "paper", "pm", "within policy", {"order": str(order.order_id)})
