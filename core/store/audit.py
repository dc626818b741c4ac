"""The append-only audit log (ARCHITECTURE.md, invariant 4)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from uuid import UUID

from core.models.audit import AuditEvent
from core.store.connection import Store

_COLUMNS = [
    "event_id",
    "ts",
    "actor",
    "kind",
    "correlation_id",
    "order_id",
    "strategy_id",
    "reason_codes",
    "limits_version",
    "payload",
]


class AuditLog:
    """Appends audit events; there is no update or delete."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def append(self, events: Iterable[AuditEvent]) -> int:
        rows = [
            [
                e.event_id,
                e.ts,
                e.actor,
                e.kind,
                e.correlation_id,
                e.order_id,
                e.strategy_id,
                list(e.reason_codes),
                e.limits_version,
                json.dumps(e.payload, default=str),
            ]
            for e in events
        ]
        if rows:
            self._store.client.insert("audit_log", rows, column_names=_COLUMNS)
        return len(rows)

    def written_ids(self, event_ids: list[UUID]) -> set[UUID]:
        """Which of these events the log already has."""
        if not event_ids:
            return set()
        rows = self._store.client.query(
            "SELECT event_id FROM audit_log WHERE event_id IN {ids:Array(UUID)}",
            parameters={"ids": event_ids},
        ).result_rows
        return {UUID(str(row[0])) for row in rows}

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return int(self._store.client.command("SELECT count() FROM audit_log"))  # type: ignore[arg-type]
        return int(
            self._store.client.query(
                "SELECT count() FROM audit_log WHERE kind = {kind:String}",
                parameters={"kind": kind},
            ).result_rows[0][0]
        )
