"""The gateway's safety journal: the facts that protect money, written the moment they
change, in a small SQLite file beside the desk's other state.

Three things live here, all synchronous (the audit log and trade tables are batched):
- the trading state of the account and of each strategy (ACTIVE, REDUCING, HALTED), so a
  halt survives any restart and only a human re-arms;
- the order journal: an order is written as `sending` before the gate and venue see it, and
  `booked` with its status once its fills and states are in the store. On start, an order
  still `sending` is reconciled against the booked fills and the venue's own state;
- audit rows held for the log: the desk's own records that no money waits on (the PM's
  decision on each turn), journaled at once and written to the audit log soon after
  (gateway/deferred_audit.py).

SQLite in WAL mode survives `kill -9` at any point: a committed row is in the file's WAL,
which the next open replays.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.models.trading import Order

JournalStage = Literal["sending", "booked"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trading_states (
    scope  TEXT PRIMARY KEY,
    state  TEXT NOT NULL,
    actor  TEXT NOT NULL,
    reason TEXT NOT NULL,
    ts_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id        TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL UNIQUE,
    stage           TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT '',
    filled          REAL NOT NULL DEFAULT 0,
    order_json      TEXT NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS held_audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_json TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StateRecord:
    """The last trading state of one scope (`account:ID` or `strategy:ID`); `ts_ms` is the
    wall clock when it was set (the desk's own clock may be market time)."""

    scope: str
    state: str
    actor: str
    reason: str
    ts_ms: int


@dataclass(frozen=True)
class JournalOrder:
    """An order as the journal last saw it."""

    order: Order
    stage: JournalStage
    status: str
    filled: float


class SafetyJournal:
    """Trading states and the order journal of one account, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # A kill switch may write from another thread than the desk's; one lock serialises.
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit is in the WAL before it returns, so it survives the process dying;
        # only a power cut can take the last commits, which FULL would guard at ~10x the cost.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)

    # -- trading states ----------------------------------------------------------------------

    def record_state(self, record: StateRecord) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO trading_states (scope, state, actor, reason, ts_ms) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET state = excluded.state,"
                " actor = excluded.actor, reason = excluded.reason, ts_ms = excluded.ts_ms",
                (record.scope, record.state, record.actor, record.reason, record.ts_ms),
            )

    def states(self) -> list[StateRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT scope, state, actor, reason, ts_ms FROM trading_states ORDER BY scope"
            ).fetchall()
        return [StateRecord(*row) for row in rows]

    # -- orders --------------------------------------------------------------------------------

    def sending(self, order: Order, ts_ms: int) -> None:
        """Write-ahead: `order` is about to reach the gate and, if accepted, the venue. An
        order that already reached a venue keeps its row; one that was only parked for
        approval or denied goes back to `sending` (the approved re-send may reach the venue)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO orders (order_id, client_order_id, stage, order_json, updated_ms) "
                "VALUES (?, ?, 'sending', ?, ?) ON CONFLICT(order_id) DO UPDATE SET "
                "stage = 'sending', updated_ms = excluded.updated_ms "
                "WHERE orders.status IN ('', 'unsent', 'pending_approval', 'denied')",
                (str(order.order_id), order.client_order_id, order.model_dump_json(), ts_ms),
            )

    def booked(self, updates: list[tuple[str, str, float]], ts_ms: int) -> None:
        """(order_id, status, filled) for orders whose states and fills are now in the store."""
        if not updates:
            return
        with self._lock:
            self._conn.executemany(
                "UPDATE orders SET stage = 'booked', status = ?, filled = ?, updated_ms = ? "
                "WHERE order_id = ?",
                [(status, filled, ts_ms, order_id) for order_id, status, filled in updates],
            )

    def not_sent(self, order_id: str, status: str, ts_ms: int) -> None:
        """The gate denied or parked an order this call was sending: nothing reached a
        venue. A row already booked (a re-send of a filled order) is left as it is."""
        with self._lock:
            self._conn.execute(
                "UPDATE orders SET stage = 'booked', status = ?, updated_ms = ? "
                "WHERE order_id = ? AND stage = 'sending'",
                (status, ts_ms, order_id),
            )

    def orders(self) -> list[JournalOrder]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT order_json, stage, status, filled FROM orders ORDER BY updated_ms"
            ).fetchall()
        return [
            JournalOrder(Order.model_validate(json.loads(raw)), stage, status, float(filled))
            for raw, stage, status, filled in rows
        ]

    # -- audit rows held for the log -----------------------------------------------------------

    def hold_audit(self, event_json: str) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO held_audit (event_json) VALUES (?)", (event_json,))

    def held_audit(self) -> list[tuple[int, str]]:
        """(seq, event JSON) of every row held, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, event_json FROM held_audit ORDER BY seq")
            return [(int(seq), str(raw)) for seq, raw in rows.fetchall()]

    def release_audit(self, through_seq: int) -> None:
        """The rows up to `through_seq` are in the audit log."""
        with self._lock:
            self._conn.execute("DELETE FROM held_audit WHERE seq <= ?", (through_seq,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
