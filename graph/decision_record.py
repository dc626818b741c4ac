"""The PM's decision on each request, as one audit row (`pm.decision`): the words, the intent
the router read, which router decided, and the orders the turn sent or parked. The audit
trail joins it to the gate's verdicts, the approvals and the fills by order id. The row is
journaled before the turn answers and reaches the audit log soon after, off the turn's path
(gateway/deferred_audit.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agents.results import Results
from gateway import Gateway

KIND = "pm.decision"
REQUEST_CHARS = 500


def order_ids(results: Results) -> list[str]:
    """The orders a turn sent, reduced with, cancelled or parked for approval."""
    found: list[str] = []
    execution: Any = results.get("execution") or {}
    if "order_id" in execution:
        found.append(str(execution["order_id"]))
    found += [str(r["order_id"]) for r in execution.get("reduced", [])]
    found += [str(i) for i in execution.get("canceled", [])]
    pending = results.get("pending_order")
    if pending is not None and "order_id" in pending["order"]:
        found.append(str(pending["order"]["order_id"]))
    return list(dict.fromkeys(found))


def order_lines(results: Results) -> list[dict[str, Any]]:
    """What the turn's execution reported of each order: instrument, side, size, verdict."""
    execution: Any = results.get("execution") or {}
    reports = [execution] if "order_id" in execution else list(execution.get("reduced", []))
    keep = ("order_id", "symbol", "side", "quantity", "verdict")
    return [{k: r.get(k) for k in keep} for r in reports]


def record_decision(
    gateway: Gateway,
    thread_id: str,
    request: str,
    intent: dict[str, Any] | None,
    routed_by: str,
    results: Results,
) -> None:
    orders = order_ids(results)
    first = orders[0] if orders else None
    gateway.record(
        KIND,
        {
            "thread_id": thread_id,
            "request": request[:REQUEST_CHARS],
            "intent": intent or {},
            "routed_by": routed_by,
            "order_ids": orders,
            "orders": order_lines(results),
        },
        actor="pm",
        order_id=UUID(first) if first else None,
        soon=True,
    )
