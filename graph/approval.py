"""The approval step: an order the gate marked NEEDS_APPROVAL pauses the graph with
`interrupt()`; the payload is the approval card (core/models/approval.py), in
agent-chat-ui's shape. A human approves, rejects or
edits; approving asks the gate for a token. Requests expire; above a second threshold two
distinct approvers are needed; every answer is recorded. The node re-runs from the top on
resume, so it first re-sends the same order (the gate parks it again after a restart)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from langgraph.types import Command, interrupt

from agents.desk import Desk
from agents.execution import NAME
from agents.results import ApprovalRecord, check_execution
from agents.state import DeskState, Node, finish
from core.faults import crash_point
from core.models.approval import ActionRequest, ApprovalCard, CardOrder
from core.models.trading import Order
from gateway import ApprovalNeed, GateDecision, Verdict
from tools.orders import edited_order, execution_report, promote_to_paper, sent_before


def approval_card(
    desk: Desk,
    order: Order,
    decision: GateDecision,
    state: DeskState,
    approvers: list[str],
    need: ApprovalNeed,
    requested_at: datetime,
    note: str = "",
) -> ApprovalCard:
    """The card a human answers; its payload is agent-chat-ui's approval interrupt."""
    args = CardOrder(
        order_id=str(order.order_id),
        symbol=f"{order.venue_id}:{order.symbol}",
        side=order.side.value,
        quantity=order.quantity,
        limit_price=order.limit_price,
        strategy_id=order.strategy_id,
    )
    description = (
        f"{args.line()} (~{need.notional:,.0f} notional) needs approval: "
        f"{', '.join(decision.reason_codes)}" + (f"; {note}" if note else "")
    )
    return ApprovalCard(
        action_requests=(ActionRequest(args=args, description=description),),
        order=args,
        notional=need.notional,
        gate_reasons=decision.reason_codes,
        risk=state.get("portfolio", {}),
        approvals_needed=max(1, need.approvers),
        approved_by=tuple(approvers),
        requested_at=requested_at,
        expires_at=requested_at + timedelta(milliseconds=desk.limits.approval_ttl_ms),
    )


def _decision(answer: Any) -> dict[str, Any]:
    """The first decision of a resume value; anything malformed counts as a rejection."""
    if (
        isinstance(answer, dict)
        and isinstance(answer.get("decisions"), list)
        and answer["decisions"]
    ):
        first = answer["decisions"][0]
        if isinstance(first, dict) and first.get("type") in ("approve", "edit", "reject"):
            return first
    return {"type": "reject", "reason": f"unreadable answer: {str(answer)[:200]}"}


def submit_with_approval(
    desk: Desk, state: DeskState, order: Order, requested_at: datetime
) -> tuple[GateDecision, Order, list[ApprovalRecord]]:
    """Submit; on NEEDS_APPROVAL pause for one (or, above the dual threshold, two distinct)
    humans. Returns the final decision, the order actually sent, and the approval records."""
    earlier = sent_before(desk.gateway, order)
    if earlier is not None:
        # Approved and sent before the process died, and the conversation not yet saved.
        return earlier, order, []
    decision = desk.gateway.submit(order)
    records: list[ApprovalRecord] = []
    if decision.verdict is not Verdict.NEEDS_APPROVAL:
        return decision, order, records
    # The gate values the order and says how many distinct humans it will require.
    need = desk.gateway.approval_need(order.order_id)
    approvers: list[str] = []
    note = ""
    while len(approvers) < max(1, need.approvers):
        card = approval_card(desk, order, decision, state, approvers, need, requested_at, note)
        answer = _decision(interrupt(card.payload()))
        who = str(answer.get("approver") or "unknown")
        expired = datetime.now(UTC) > card.expires_at
        record: ApprovalRecord = {
            "order_id": str(order.order_id),
            "decision": answer["type"],
            "approver": who,
            "reason": str(answer.get("reason", "")),
            "at": datetime.now(UTC).isoformat(),
            "expired": expired,
        }
        # Distinct as the gate counts them: case does not make another person.
        repeated = (
            who.casefold() in {a.casefold() for a in approvers}
            and answer["type"] != "reject"
            and not expired
        )
        if repeated:
            record["decision"] = "repeat"
            record["reason"] = f"{who} already approved; a second, different approver is needed"
        records.append(record)
        desk.gateway.record(
            "approval.answer", dict(record), actor=f"human:{who}", order_id=order.order_id
        )
        crash_point("approval.answered")
        if repeated:
            # The order keeps waiting for someone else; the card says who has approved.
            note = str(record["reason"])
            continue
        if expired or answer["type"] == "reject" or who == "unknown":
            refused = desk.gateway.refuse(order.order_id, who, expired=expired)
            return refused, order, records
        if answer["type"] == "edit":
            edited = (answer.get("edited_action") or {}).get("args") or {}
            desk.gateway.refuse(order.order_id, who)
            order = edited_order(order, edited)
            decision = desk.gateway.submit(order)
            if decision.verdict is not Verdict.NEEDS_APPROVAL:
                return decision, order, records
            need = desk.gateway.approval_need(order.order_id)
        approvers.append(who)
    token = desk.gateway.approve(order.order_id, approvers)
    crash_point("approval.token")
    final = desk.gateway.submit(order, approval_token=token)
    return final, order, records


def node(desk: Desk) -> Node:
    def approval(state: DeskState) -> Command[Literal["__end__"]]:
        pending = state["results"]["pending_order"]
        order = Order.model_validate(pending["order"])
        # A request without its time (made by an older version) counts as expired: fail safe.
        requested_at = datetime.fromisoformat(
            pending.get("requested_at") or datetime.min.replace(tzinfo=UTC).isoformat()
        )
        decision, sent, records = submit_with_approval(desk, state, order, requested_at)
        promote_to_paper(desk.store, pending.get("target_key"), decision, sent)
        report = execution_report(desk.gateway, sent, decision)
        out, text = check_execution(report.model_dump()), report.line()
        return finish("approval", out, text, results={NAME: out}, approvals=records)

    return approval
