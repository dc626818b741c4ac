"""What the engine did, written down: every decision and state change as an audit event, the
fills and order states in the trade log, trading-state moves in the safety journal. The
gateway hands the recorder each batch of engine events and has it write after every call it
serves, so no caller ever flushes. It is also the desk's audit logger (`record`)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.faults import crash_point
from core.models.audit import AuditEvent
from core.models.trading import Fill, Liquidity, Order, OrderStatus, Side
from core.store import AuditLog, Store, TradeLog
from gateway.journal import SafetyJournal, StateRecord

Clock = Callable[[], datetime]


def to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return int(ts.timestamp() * 1000)


class GateRecorder:
    def __init__(
        self,
        limits_version: str,
        *,
        store: Store | None,
        journal: SafetyJournal | None,
        actor: str,
        clock: Clock,
    ) -> None:
        self.limits_version = limits_version
        self.journal = journal
        self.actor = actor
        self.clock = clock
        self.audit = AuditLog(store) if store is not None else None
        self.trades = TradeLog(store) if store is not None else None
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._orders: dict[str, Order] = {}
        # Denied orders leave `_orders`; the latest ones stay here, for whoever reads events.
        self._recent_orders: deque[Order] = deque(maxlen=10_000)
        self._order_seq: dict[str, int] = {}
        self._pending: list[AuditEvent] = []
        self._pending_states: list[tuple[Order, OrderStatus, float, datetime, int]] = []
        self._pending_fills: list[Fill] = []
        # Filled by any thread (a kill switch that must not wait for the desk's lock), written
        # by the one holding the store: swapping the buffers holds this lock.
        self._buffers = threading.Lock()

    # -- the orders it books rows for --------------------------------------------------------

    def track(self, order: Order) -> None:
        if self.trades is not None:
            self._orders.setdefault(str(order.order_id), order)
        self._recent_orders.append(order)

    def untrack(self, order_id: str) -> None:
        self._orders.pop(order_id, None)

    def tracked(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def replace(self, order: Order) -> None:
        self._orders[str(order.order_id)] = order

    def order(self, order_id: str) -> Order | None:
        found = self._orders.get(order_id)
        return found or next(
            (o for o in reversed(self._recent_orders) if str(o.order_id) == order_id), None
        )

    # -- taking events -----------------------------------------------------------------------

    def take(self, events: list[dict[str, Any]], *, journal_states: bool = True) -> None:
        """Buffer a batch of engine events; a trading-state move is journaled at once."""
        with self._buffers:
            for event in events:
                self.recent_events.append(event)
                if event["kind"] == "gate.trading_state" and self.journal and journal_states:
                    self.journal.record_state(
                        StateRecord(
                            event["scope"], event["state"], str(event["actor"]),
                            str(event["reason"]), int(time.time() * 1000),
                        )
                    )  # fmt: skip
                if self.audit is None:
                    continue
                self._pending.append(self._audit_event(event))
                self._trade_rows(event)

    def record(self, event: AuditEvent, *, written_elsewhere: bool = False) -> None:
        """An event of the desk's own (an approval answer, a venue error, a reconciliation),
        made by `event`, written with the engine's next batch; `written_elsewhere`: only kept
        among the recent events, its audit row written by its caller (gateway.deferred_audit)."""
        with self._buffers:
            self.recent_events.append(event.model_dump(mode="json"))
            if self.audit is not None and not written_elsewhere:
                self._pending.append(event)

    def event(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        actor: str | None = None,
        order_id: UUID | None = None,
        reason_codes: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> AuditEvent:
        """An event of the desk's own, with the same limits version as the engine's."""
        return AuditEvent(
            ts=at if at is not None else self.clock(),
            actor=actor or self.actor,
            kind=kind,
            correlation_id=str(order_id or ""),
            order_id=order_id,
            reason_codes=reason_codes,
            limits_version=self.limits_version,
            payload=payload,
        )

    @property
    def pending(self) -> bool:
        """Whether anything waits to be written."""
        return bool(self._pending or self._pending_fills or self._pending_states)

    def write(self) -> int:
        """Append what is buffered; returns how many audit events were written. The caller
        holds the store."""
        with self._buffers:
            states, self._pending_states = self._pending_states, []
            fills, self._pending_fills = self._pending_fills, []
            batch, self._pending = self._pending, []
        # Decisions first, then fills, then order states: a crash between two writes leaves
        # every booked fill joined to its gate decision, and a fill is never missing under a
        # state that says it happened (the restart restores orders from fills and states).
        written = self.audit.append(batch) if self.audit is not None and batch else 0
        crash_point("audit.written")
        if self.trades is not None:
            if fills:
                self.trades.append_fills(fills)
                crash_point("fill.booked")
            if states:
                self.trades.append_order_states(states)
        if self.journal is not None and states:
            last = {str(o.order_id): (status.value, filled) for o, status, filled, _, _ in states}
            self.journal.booked(
                [(order_id, status, filled) for order_id, (status, filled) in last.items()],
                to_ms(self.clock()),
            )
            crash_point("order.booked")
        return written

    def _trade_rows(self, event: dict[str, Any]) -> None:
        order = self._orders.get(str(event.get("order_id", "")))
        if order is None:
            return
        ts = datetime.fromtimestamp(event["ts_ms"] / 1000, UTC)
        if event["kind"] == "order.status":
            seq = self._order_seq.get(event["order_id"], 0) + 1
            self._order_seq[event["order_id"]] = seq
            state = (order, OrderStatus(event["status"]), float(event["filled"]), ts, seq)
            self._pending_states.append(state)
        elif event["kind"] == "order.fill":
            self._pending_fills.append(
                Fill(
                    fill_id=event["fill_id"],
                    order_id=order.order_id,
                    strategy_id=order.strategy_id,
                    account_id=order.account_id,
                    venue_id=order.venue_id,
                    symbol=order.symbol,
                    side=Side(event["side"]),
                    quantity=event["quantity"],
                    price=event["price"],
                    fee=event["fee"],
                    liquidity=Liquidity(event["liquidity"]),
                    ts=ts,
                )
            )

    def _audit_event(self, event: dict[str, Any]) -> AuditEvent:
        order_id: UUID | None = None
        if "order_id" in event:
            try:
                order_id = UUID(event["order_id"])
            except ValueError:
                order_id = None
        return AuditEvent(
            ts=datetime.fromtimestamp(event["ts_ms"] / 1000, UTC),
            actor=str(event.get("actor") or self.actor),
            kind=event["kind"],
            correlation_id=str(event.get("order_id", event.get("scope", ""))),
            order_id=order_id,
            strategy_id=str(event.get("strategy_id", "")),
            reason_codes=tuple(event.get("reason_codes", ())),
            limits_version=self.limits_version,
            payload=event,
        )
