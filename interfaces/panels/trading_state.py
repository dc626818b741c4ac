"""The trading state as the gate holds it, and who moved it, when and why (from the
audit log's `gate.trading_state` rows, newest first)."""

from __future__ import annotations

import json
from typing import Any

from agents.desk import Desk
from interfaces.panels.stamps import iso

HISTORY = 20


def trading_state(desk: Desk) -> dict[str, Any]:
    rows = desk.store.client.query(
        "SELECT ts, actor, payload FROM audit_log WHERE kind = 'gate.trading_state' "
        "ORDER BY ts DESC, event_id LIMIT {n:UInt32}",
        parameters={"n": HISTORY},
    ).result_rows
    history = []
    for ts, actor, payload in rows:
        body = json.loads(payload)
        history.append(
            {
                "state": str(body.get("state", "")),
                "actor": str(body.get("actor") or actor),
                "reason": str(body.get("reason", "")),
                "at": iso(ts),
                "scope": str(body.get("scope", "")),
            }
        )
    state = desk.gateway.trading_state.value
    account = f"account:{desk.limits.account_id}"
    # The account's last recorded move into the state the gate holds now (a move still
    # waiting for the store's lock is not in the log yet).
    last = next((h for h in history if h["scope"] == account and h["state"] == state), None)
    return {
        "state": state,
        "changed_by": last["actor"] if last else None,
        "reason": last["reason"] if last else None,
        "at": last["at"] if last else None,
        "history": history,
    }
