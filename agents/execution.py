"""Execution: turns approved targets and trade requests into orders, only through the
gateway. Orders the gate marks NEEDS_APPROVAL pause the graph for a human (agent-chat-ui's
approval card); the approval step asks the gate for a token. Obeys risk's reduce and halt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, interrupt

from agents.desk import Desk
from agents.lifecycle import Lifecycle
from agents.state import DeskState, Node
from core.models.trading import Order, OrderType, Side, TimeInForce
from gateway import GateDecision, Verdict

NAME = "execution"


def order_for(
    desk: Desk,
    state: DeskState,
    config: RunnableConfig,
    side: str,
    quantity: float,
    symbol: str,
    limit_price: float | None,
    strategy_id: str,
    salt: str = "",
) -> Order | str:
    """The order, or why there is none. Its id is derived from the thread and the turn, so
    the node re-running after an interrupt sends the very same order (idempotent)."""
    found = desk.instrument(symbol)
    if found is None:
        return f"no instrument {symbol!r} on this desk ({', '.join(sorted(desk.symbols))})"
    venue, market = found
    thread = str((config.get("configurable") or {}).get("thread_id", "local"))
    turn = len(state.get("messages", []))
    key = f"{thread}|{turn}|{side}|{quantity!r}|{venue}:{market}|{limit_price!r}|{salt}"
    order_id = uuid5(NAMESPACE_URL, key)
    return Order(
        order_id=order_id,
        client_order_id=f"qd-{order_id.hex[:24]}",
        strategy_id=strategy_id,
        account_id=desk.limits.account_id,
        venue_id=venue,
        symbol=market,
        side=Side(side),
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        quantity=quantity,
        limit_price=limit_price,
        time_in_force=TimeInForce.GTC if limit_price is not None else TimeInForce.IOC,
        created_at=desk.now,
    )


def _notional(desk: Desk, order: Order) -> float:
    price = order.limit_price or desk.reference_price(order.venue_id, order.symbol) or 0.0
    return order.quantity * price


def approval_request(
    desk: Desk,
    order: Order,
    decision: GateDecision,
    state: DeskState,
    approvers: list[str],
    needed: int,
) -> dict[str, Any]:
    """The interrupt payload, in the shape agent-chat-ui renders as an approval card."""
    args = {
        "order_id": str(order.order_id),
        "symbol": f"{order.venue_id}:{order.symbol}",
        "side": order.side.value,
        "quantity": order.quantity,
        "limit_price": order.limit_price,
        "strategy_id": order.strategy_id,
    }
    notional = _notional(desk, order)
    return {
        "action_requests": [
            {
                "name": "submit_order",
                "args": args,
                "description": (
                    f"{order.side.value} {order.quantity:g} {order.symbol} (~{notional:,.0f} "
                    f"{'notional'}) needs approval: {', '.join(decision.reason_codes)}"
                ),
            }
        ],
        "review_configs": [
            {"action_name": "submit_order", "allowed_decisions": ["approve", "edit", "reject"]}
        ],
        "order": args,
        "notional": notional,
        "gate_reasons": list(decision.reason_codes),
        "risk": state.get("portfolio", {}),
        "approvals_needed": needed,
        "approved_by": approvers,
        "expires_at": (datetime.now(UTC) + desk.policy.ttl).isoformat(),
    }


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
    desk: Desk, state: DeskState, order: Order
) -> tuple[GateDecision, Order, list[dict[str, Any]]]:
    """Submit; on NEEDS_APPROVAL pause for one (or, above the dual threshold, two distinct)
    humans. Returns the final decision, the order actually sent, and the approval records."""
    decision = desk.gateway.submit(order)
    records: list[dict[str, Any]] = []
    if decision.verdict is not Verdict.NEEDS_APPROVAL:
        return decision, order, records
    needed = 2 if _notional(desk, order) > desk.policy.dual_notional else 1
    approvers: list[str] = []
    while len(approvers) < needed:
        request = approval_request(desk, order, decision, state, approvers, needed)
        answer = _decision(interrupt(request))
        who = str(answer.get("approver") or "unknown")
        expired = datetime.now(UTC) > datetime.fromisoformat(request["expires_at"])
        record = {
            "order_id": str(order.order_id),
            "decision": answer["type"],
            "approver": who,
            "reason": str(answer.get("reason", "")),
            "at": datetime.now(UTC).isoformat(),
            "expired": expired,
        }
        records.append(record)
        desk.gateway.record(
            "approval.answer", record, actor=f"human:{who}", order_id=order.order_id
        )
        if expired or answer["type"] == "reject" or who == "unknown" or who in approvers:
            if who in approvers:
                record["reason"] = f"{who} already approved; a second, different approver is needed"
            desk.gateway.refuse(order.order_id, who)
            desk.gateway.flush()
            refused = GateDecision(
                order_id=order.order_id,
                verdict=Verdict.DENY,
                reason_codes=("APPROVAL_EXPIRED",) if expired else ("APPROVAL_REFUSED",),
                limits_version=decision.limits_version,
            )
            return refused, order, records
        if answer["type"] == "edit":
            edited = (answer.get("edited_action") or {}).get("args") or {}
            desk.gateway.refuse(order.order_id, who)
            order = order.model_copy(
                update={
                    "order_id": uuid5(NAMESPACE_URL, f"{order.order_id}|edit|{edited}"),
                    "quantity": float(edited.get("quantity", order.quantity)),
                    "limit_price": edited.get("limit_price", order.limit_price),
                }
            )
            order = Order.model_validate(
                order.model_dump() | {"client_order_id": f"qd-{order.order_id.hex[:24]}"}
            )
            decision = desk.gateway.submit(order)
            if decision.verdict is not Verdict.NEEDS_APPROVAL:
                return decision, order, records
        approvers.append(who)
    token = desk.gateway.approve(
        order.order_id, ",".join(approvers), ttl_s=desk.policy.ttl.total_seconds()
    )
    final = desk.gateway.submit(order, approval_token=token)
    desk.gateway.flush()
    return final, order, records


def _summary(desk: Desk, order: Order, decision: GateDecision) -> dict[str, Any]:
    status = desk.gateway.order_status(order.order_id)
    return {
        "order_id": str(order.order_id),
        "symbol": f"{order.venue_id}:{order.symbol}",
        "side": order.side.value,
        "quantity": order.quantity,
        "verdict": decision.verdict.value,
        "reasons": list(decision.reason_codes),
        "status": status[0] if status else "not taken",
        "filled": status[1] if status else 0.0,
    }


def node(desk: Desk) -> Node:
    def execution(state: DeskState, config: RunnableConfig) -> Command[Literal["__end__"]]:
        intent = state.get("intent", {})
        results = state.get("results", {})
        instruction = (results.get("risk") or {}).get("instruction")
        if intent.get("kind") == "halt" or instruction == "halt":
            canceled = desk.gateway.kill_switch("pm", state.get("request", "halt"))
            text = f"HALTED: {len(canceled)} open orders canceled; rearming needs a human."
            out = {"halted": True, "canceled": [str(c) for c in canceled]}
            return Command(
                goto="__end__",
                update={
                    "results": {NAME: out},
                    "trace": [NAME],
                    "messages": [AIMessage(text, name=NAME)],
                },
            )
        target = results.get("target")
        if intent.get("kind") == "trade":
            made = order_for(
                desk,
                state,
                config,
                intent["side"],
                intent["quantity"],
                intent.get("symbol") or "",
                intent.get("limit_price"),
                "manual",
            )
        elif target:
            made = order_for(
                desk,
                state,
                config,
                target["side"],
                target["quantity"],
                target["symbol"],
                None,
                target["strategy_id"],
            )
        else:
            made = "nothing to execute"
        if isinstance(made, str):
            return Command(
                goto="__end__",
                update={
                    "results": {NAME: {"error": made}},
                    "trace": [NAME],
                    "messages": [AIMessage(made, name=NAME)],
                },
            )
        decision, sent, records = submit_with_approval(desk, state, made)
        desk.gateway.flush()
        key = target.get("key") if target else None
        if key and decision.accepted and Lifecycle(desk.store).stage(key) == "reviewed":
            Lifecycle(desk.store).record(
                key, "paper", "pm", "within policy", {"order": str(sent.order_id)}
            )
        out = _summary(desk, sent, decision)
        reasons = ", ".join(str(r) for r in decision.reason_codes)
        text = (
            f"{out['side']} {out['quantity']:g} {out['symbol']}: {out['verdict']}"
            + (f" ({reasons})" if reasons else "")
            + f"; status {out['status']}, filled {out['filled']:g}"
        )
        return Command(
            goto="__end__",
            update={
                "results": {NAME: out},
                "approvals": records,
                "trace": [NAME],
                "messages": [AIMessage(text, name=NAME)],
            },
        )

    return execution
