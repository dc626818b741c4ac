"""Orders waiting for humans: what they need, the approval token, a refusal. The human
approval step calls these; agents are never given them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from gateway.decisions import ApprovalNeed, GateDecision
from gateway.face import EngineFace, _writes


class ApprovalCalls(EngineFace):
    def pending_approval(self, order_id: UUID) -> bool:
        status = self._engine.order_status(str(order_id))
        return status is not None and status[0] == "pending_approval"

    def approval_need(self, order_id: UUID, *, at: datetime | None = None) -> ApprovalNeed:
        """How many distinct humans the gate will require of a pending order, and the
        notional it values the order at now (the limits' `approval_notional` and
        `dual_approval_notional` decide)."""
        approvers, notional = self._engine.approval_need(str(order_id), self._now(at))
        return ApprovalNeed(approvers=approvers, notional=notional)

    @_writes
    def approve(
        self, order_id: UUID, approvers: Sequence[str], *, at: datetime | None = None
    ) -> str:
        """A token naming the distinct `approvers`; it lives the limits' `approval_ttl_ms`,
        and the gate refuses it if they are fewer than the order needs."""
        try:
            return self._engine.approve(str(order_id), list(approvers), self._now(at))
        finally:
            self._collect()

    @_writes
    def refuse(
        self, order_id: UUID, approver: str, *, expired: bool = False, at: datetime | None = None
    ) -> GateDecision:
        """Deny a pending order: APPROVAL_REFUSED, or APPROVAL_EXPIRED when nobody answered
        in time. The gate records the decision."""
        try:
            raw = self._engine.refuse_approval(str(order_id), approver, expired, self._now(at))
        finally:
            self._collect()
        return self._decision(order_id, raw)
