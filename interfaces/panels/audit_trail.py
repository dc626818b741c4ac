"""The audit trail, searchable: for each order, the PM's decision that asked for it, the
gate's verdicts, the humans' approvals, its status and its fills, joined by order id; and the
desk's other recorded events (trading-state moves, data loads, questions answered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.desk import Desk
from graph.decision_record import KIND as DECISION
from interfaces.panels.stamps import iso

EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(2200, 1, 1)
SCAN = 5
"""Orders read per trail asked for, so that text and actor filters still fill the page."""
SUMMARY_CHARS = 200


class AuditQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(default="", max_length=200, description="Text anywhere in the trail.")
    strategy: str = Field(default="", max_length=64)
    instrument: str = Field(default="", max_length=64, description="venue:symbol or a part.")
    actor: str = Field(default="", max_length=64, description="A part of an actor's name.")
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=500)

    @field_validator("since", "until")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        # The store's timestamps hold 1900-2299; the desk has nothing before 1970.
        if value is not None and not EARLIEST <= _utc_naive(value) <= LATEST:
            raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
        return value


def _iso(value: Any) -> str:
    return iso(value) or ""


def _utc_naive(value: datetime) -> datetime:
    """UTC without a zone, as the store's parameters take it; a time without one is UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _when(query: AuditQuery) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if query.since is not None:
        where.append("ts >= {since:DateTime64(6, 'UTC')}")
        params["since"] = _utc_naive(query.since)
    if query.until is not None:
        where.append("ts <= {until:DateTime64(6, 'UTC')}")
        params["until"] = _utc_naive(query.until)
    return "".join(f" AND {w}" for w in where), params


def _trail(order_id: str, info: tuple[Any, ...] | None) -> dict[str, Any]:
    venue, symbol, side, quantity, status, filled = info or ("", "", "", None, "", 0.0)
    return {
        "order_id": order_id,
        "ts": "",
        "strategy_id": "",
        "instrument": f"{venue}:{symbol}" if venue else "",
        "side": side,
        "quantity": quantity,
        "status": status or "",
        "filled": filled,
        "decision": None,
        "gate": [],
        "approvals": [],
        "fills": [],
        "actors": [],
    }


def _add(trail: dict[str, Any], kind: str, ts: Any, actor: str, body: dict[str, Any]) -> None:
    at = _iso(ts)
    trail["actors"].append(actor)
    if kind == DECISION:
        intent = body.get("intent") or {}
        trail["decision"] = {
            "thread_id": body.get("thread_id", ""),
            "request": body.get("request", ""),
            "intent": intent,
            "routed_by": body.get("routed_by", ""),
            "ts": at,
        }
        # An order the gate denied never reached the order book: execution's report of it,
        # kept with the decision, names its instrument.
        lines: list[dict[str, Any]] = body.get("orders", [])
        line = next((o for o in lines if o["order_id"] == trail["order_id"]), {})
        if not trail["instrument"] and line:
            trail["instrument"] = str(line.get("symbol") or "")
            trail["side"] = trail["side"] or line.get("side") or ""
            trail["quantity"] = trail["quantity"] or line.get("quantity")
    elif kind == "gate.decision":
        codes = [str(c) for c in body.get("reason_codes", [])]
        trail["gate"].append({"ts": at, "verdict": body.get("verdict", ""), "reason_codes": codes})
        if not trail["status"] and body.get("verdict") == "DENY":
            trail["status"] = "denied"
    elif kind == "approval.answer":
        answer = {
            # When the human answered (wall-clock), which orders answers that share the
            # desk clock's instant.
            "ts": str(body.get("at") or at),
            "approver": body.get("approver", actor),
            "decision": body.get("decision", ""),
            "reason": body.get("reason", ""),
        }
        # The approval step runs again from its start when the next approver answers, and
        # records the earlier answers again: one person's answer is shown once.
        if not any(
            (a["approver"], a["decision"]) == (answer["approver"], answer["decision"])
            for a in trail["approvals"]
        ):
            trail["approvals"].append(answer)
    elif kind == "order.fill":
        trail["fills"].append(
            {
                "ts": at,
                "quantity": body.get("quantity"),
                "price": body.get("price"),
                "fee": body.get("fee"),
            }
        )


def _matches(trail: dict[str, Any], query: AuditQuery) -> bool:
    if query.instrument and query.instrument.lower() not in trail["instrument"].lower():
        return False
    if query.actor and not any(query.actor.lower() in a.lower() for a in trail["actors"]):
        return False
    return not query.q or query.q.lower() in json.dumps(trail, default=str).lower()


def trails(desk: Desk, query: AuditQuery) -> list[dict[str, Any]]:
    client = desk.store.client
    when, params = _when(query)
    if query.strategy:
        when += " AND strategy_id = {strategy:String}"
        params["strategy"] = query.strategy
    heads = client.query(
        "SELECT toString(order_id) AS oid, min(ts) AS first, anyIf(strategy_id, strategy_id != '') "
        f"FROM audit_log WHERE order_id IS NOT NULL AND kind != '{DECISION}'{when} "
        "GROUP BY oid ORDER BY first DESC LIMIT {n:UInt32}",
        parameters={**params, "n": query.limit * SCAN},
    ).result_rows
    if not heads:
        return []
    ids = [str(h[0]) for h in heads]
    infos = {
        str(row[0]): tuple(row[1:])
        for row in client.query(
            "SELECT toString(order_id) AS oid, any(venue), any(symbol), any(side), any(quantity), "
            "argMax(status, (ts, seq)), max(filled_quantity) FROM orders "
            "WHERE oid IN {ids:Array(String)} GROUP BY oid",
            parameters={"ids": ids},
        ).result_rows
    }
    found = {oid: _trail(oid, infos.get(oid)) for oid in ids}
    for oid, first, strategy in heads:
        found[str(oid)].update(ts=_iso(first), strategy_id=str(strategy))
    rows = client.query(
        "SELECT kind, ts, actor, toString(order_id), payload FROM audit_log "
        "WHERE toString(order_id) IN {ids:Array(String)} "
        f"OR (kind = '{DECISION}' AND "
        "hasAny(JSONExtract(payload, 'order_ids', 'Array(String)'), {ids:Array(String)})) "
        "ORDER BY ts, event_id",
        parameters={"ids": ids},
    ).result_rows
    for kind, ts, actor, oid, payload in rows:
        body = json.loads(payload)
        linked = [str(oid)] if oid and str(oid) in found else []
        if kind == DECISION:
            linked = [i for i in body.get("order_ids", []) if i in found] or linked
        for order_id in linked:
            _add(found[order_id], str(kind), ts, str(actor), body)
    chosen = [t for t in found.values() if _matches(t, query)][: query.limit]
    for trail in chosen:
        trail["actors"] = sorted(set(trail["actors"]))
        trail["approvals"].sort(key=lambda a: a["ts"])
    return chosen


def _summary(kind: str, body: dict[str, Any]) -> str:
    if kind == "gate.trading_state":
        return f"{body.get('scope', '')} {body.get('state', '')}: {body.get('reason', '')}"
    if kind == "data.load":
        return (
            f"{body.get('source', '')}: {body.get('rows_stored', 0)} rows stored, "
            f"{body.get('rows_quarantined', 0)} quarantined"
        )
    if kind == DECISION:
        intent = body.get("intent") or {}
        return f"{body.get('request', '')!r} read as {intent.get('kind', '?')}"
    return json.dumps(body, default=str)[:SUMMARY_CHARS]


def events(desk: Desk, query: AuditQuery) -> list[dict[str, Any]]:
    """Recorded events that are not part of an order's trail, newest first."""
    when, params = _when(query)
    rows = desk.store.client.query(
        "SELECT ts, kind, actor, payload FROM audit_log WHERE order_id IS NULL"
        f"{when} ORDER BY ts DESC, event_id LIMIT {{n:UInt32}}",
        parameters={**params, "n": query.limit * SCAN},
    ).result_rows
    out = []
    for ts, kind, actor, payload in rows:
        event = {
            "ts": _iso(ts),
            "kind": str(kind),
            "actor": str(actor),
            "summary": _summary(str(kind), json.loads(payload)),
        }
        if query.actor and query.actor.lower() not in event["actor"].lower():
            continue
        if query.q and query.q.lower() not in json.dumps(event).lower():
            continue
        subject = (query.strategy or query.instrument).lower()
        if subject and subject not in event["summary"].lower():
            continue
        out.append(event)
    return out[: query.limit]


def audit(desk: Desk, query: AuditQuery) -> dict[str, Any]:
    return {"trails": trails(desk, query), "events": events(desk, query)}
