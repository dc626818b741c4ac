"""The gateway's Python API: pydantic models in, pydantic models out, the Rust engine between.

Every decision and state change the engine emits is turned into an AuditEvent and appended
to the audit log in batches (and at once on a kill switch).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import numpy as np
import numpy.typing as npt

from core.faults import crash_point
from core.models.audit import AuditEvent
from core.models.market import Bar, Trade
from core.models.trading import (
    Account,
    Fill,
    Liquidity,
    Order,
    OrderStatus,
    Position,
    Side,
    TradingState,
)
from core.store import AuditLog, Store, TradeLog
from gateway._core import Engine, GatewayError
from gateway.actor import Actor
from gateway.decisions import BatchDecisions, GateDecision, Verdict
from gateway.journal import SafetyJournal, StateRecord
from gateway.limits import GateLimits, load_limits
from gateway.restore import NOT_AT_A_VENUE, RestoreReport, VenueLookup, restore_gateway

Clock = Callable[[], datetime]
EventListener = Callable[[list[dict[str, Any]]], None]
BarListener = Callable[[Bar], None]
log = logging.getLogger(__name__)
_OrderArgs = tuple[
    str, str, str, str, str, str, str, float, float | None, str, int | None, bool, str | None
]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return int(ts.timestamp() * 1000)


def instrument_id(venue_id: str, symbol: str) -> str:
    return f"{venue_id}:{symbol}"


class Gateway:
    """The only way an order reaches a venue. `venue="paper"` fills on the built-in paper
    venue; `venue="external"` leaves execution to a venue adapter that reports back."""

    def __init__(
        self,
        limits: GateLimits,
        *,
        venue: Literal["paper", "external"] = "paper",
        store: Store | None = None,
        audit_batch_size: int = 500,
        clock: Clock = wall_clock,
        actor: str = "gateway",
        journal: SafetyJournal | None = None,
    ) -> None:
        self.limits = limits
        self.journal = journal
        self._restoring = False
        self._engine = Engine(limits.to_engine_json(), external=venue == "external")
        self._audit = AuditLog(store) if store is not None else None
        self._trades = TradeLog(store) if store is not None else None
        self._batch_size = audit_batch_size
        self._pending: list[AuditEvent] = []
        self._orders: dict[str, Order] = {}
        self._order_seq: dict[str, int] = {}
        self._pending_states: list[tuple[Order, OrderStatus, float, datetime, int]] = []
        self._pending_fills: list[Fill] = []
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=10_000)
        # Denied orders leave `_orders`; the latest ones stay here, for whoever reads events.
        self._recent_orders: deque[Order] = deque(maxlen=10_000)
        self.clock = clock
        self.actor = actor
        self.venue_mode = venue
        self._listeners: list[EventListener] = []
        self._bar_listeners: list[BarListener] = []
        # Engine calls hold the GIL throughout, so they never interleave; the buffers below
        # are what a second thread (a kill switch that must not wait for the desk's lock)
        # could corrupt, so filling and swapping them holds this lock.
        self._buffers = threading.Lock()

    @classmethod
    def from_file(cls, path: str, **kwargs: Any) -> Gateway:
        return cls(load_limits(path), **kwargs)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self, at: datetime | None) -> int:
        return to_ms(at if at is not None else self.clock())

    def listen(self, listener: EventListener) -> Callable[[], None]:
        """Hand every batch of engine events (decisions, fills, state moves), whoever caused
        them, to `listener`, after the audit batch has them; returns what stops it. A listener
        that raises is logged: the gate's decision stands either way."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def listen_bars(self, listener: BarListener) -> Callable[[], None]:
        """Hand every bar the gate accepts (its reference prices, the paper venue's market) to
        `listener`; returns what stops it."""
        self._bar_listeners.append(listener)
        return lambda: self._bar_listeners.remove(listener)

    def _collect(self, *, auto_flush: bool = True) -> None:
        """Drain the engine's events into the audit batch and the listeners. `auto_flush`:
        write the batch once it is full (False: touch no store; the caller flushes)."""
        with self._buffers:
            events = self._engine.drain_events()
            for event in events:
                self.recent_events.append(event)
                if event["kind"] == "gate.trading_state" and self.journal and not self._restoring:
                    self.journal.record_state(
                        StateRecord(
                            event["scope"], event["state"], str(event["actor"]),
                            str(event["reason"]), int(time.time() * 1000),
                        )
                    )  # fmt: skip
                if self._audit is None:
                    continue
                self._pending.append(self._audit_event(event))
                self._trade_rows(event)
        for listener in self._listeners if events else ():
            try:
                listener(events)
            except Exception:
                log.exception("gateway: an event listener failed")
        if auto_flush and len(self._pending) >= self._batch_size:
            self.flush()

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
            limits_version=self.limits.limits_version,
            payload=event,
        )

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        actor: str | None = None,
        order_id: UUID | None = None,
        reason_codes: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Append an event of the gateway's own (a venue error, a reconciliation) to the
        audit batch, with the same limits version as the engine's events."""
        event = AuditEvent(
            ts=at if at is not None else self.clock(),
            actor=actor or self.actor,
            kind=kind,
            correlation_id=str(order_id or ""),
            order_id=order_id,
            reason_codes=reason_codes,
            limits_version=self.limits.limits_version,
            payload=payload,
        )
        with self._buffers:
            self.recent_events.append(event.model_dump(mode="json"))
            if self._audit is not None:
                self._pending.append(event)

    def flush(self) -> int:
        """Append buffered audit events (and order states and fills); returns how many
        audit events were written."""
        with self._buffers:
            states, self._pending_states = self._pending_states, []
            fills, self._pending_fills = self._pending_fills, []
            batch, self._pending = self._pending, []
        # Decisions first, then fills, then order states: a crash between two writes leaves
        # every booked fill joined to its gate decision, and a fill is never missing under a
        # state that says it happened (the restart restores orders from fills and states).
        written = self._audit.append(batch) if self._audit is not None and batch else 0
        crash_point("audit.written")
        if self._trades is not None:
            self._trades.append_fills(fills)
            if fills:
                crash_point("fill.booked")
            self._trades.append_order_states(states)
        if self.journal is not None and states:
            last = {str(o.order_id): (status.value, filled) for o, status, filled, _, _ in states}
            self.journal.booked(
                [(order_id, status, filled) for order_id, (status, filled) in last.items()],
                to_ms(self.clock()),
            )
            crash_point("order.booked")
        return written

    def _decision(self, order_id: UUID, raw: tuple[str, list[str]]) -> GateDecision:
        self._collect()
        return GateDecision(
            order_id=order_id,
            verdict=Verdict(raw[0]),
            reason_codes=tuple(raw[1]),
            limits_version=self.limits.limits_version,
        )

    @staticmethod
    def _args(order: Order, token: str | None) -> _OrderArgs:
        return (
            str(order.order_id),
            order.client_order_id,
            order.account_id,
            order.strategy_id,
            instrument_id(order.venue_id, order.symbol),
            order.side.value,
            order.order_type.value,
            order.quantity,
            order.limit_price,
            order.time_in_force.value,
            to_ms(order.expire_at) if order.expire_at is not None else None,
            order.reduce_only,
            token,
        )

    # -- orders ----------------------------------------------------------------------------

    def check(self, order: Order, *, at: datetime | None = None) -> GateDecision:
        """What the gate would decide, without sending anything."""
        raw = self._engine.check(*self._args(order, None), self._now(at))
        return GateDecision(
            order_id=order.order_id,
            verdict=Verdict(raw[0]),
            reason_codes=tuple(raw[1]),
            limits_version=self.limits.limits_version,
        )

    def submit(
        self, order: Order, *, approval_token: str | None = None, at: datetime | None = None
    ) -> GateDecision:
        if self._trades is not None:
            self._orders.setdefault(str(order.order_id), order)
        self._recent_orders.append(order)
        if self.journal is not None:
            self.journal.sending(order, self._now(at))
            crash_point("order.journaled")
        raw = self._engine.submit(*self._args(order, approval_token), self._now(at))
        decision = self._decision(order.order_id, raw)
        crash_point("gate.decided")
        if decision.verdict is not Verdict.ACCEPT and self.journal is not None:
            status = "pending_approval" if decision.verdict is Verdict.NEEDS_APPROVAL else "denied"
            self.journal.not_sent(str(order.order_id), status, self._now(at))
        if decision.verdict is Verdict.ACCEPT:
            # The paper venue acknowledges (and may fill) inside the same engine call.
            crash_point("venue.acked")
        if (
            decision.verdict is Verdict.DENY
            and self._engine.order_status(str(order.order_id)) is None
        ):
            self._orders.pop(str(order.order_id), None)
        return decision

    def modify(
        self,
        order_id: UUID,
        *,
        price: float | None = None,
        quantity: float | None = None,
        at: datetime | None = None,
    ) -> GateDecision:
        raw = self._engine.modify(str(order_id), price, quantity, self._now(at))
        known = self._orders.get(str(order_id))
        if raw[0] == Verdict.ACCEPT and known is not None:
            status = self._engine.order_status(str(order_id))
            update: dict[str, Any] = {}
            if price is not None:
                update["limit_price"] = price
            if quantity is not None and status is not None:
                update["quantity"] = status[1] + quantity
            self._orders[str(order_id)] = known.model_copy(update=update)
        return self._decision(order_id, raw)

    def cancel(self, order_id: UUID, *, at: datetime | None = None) -> None:
        try:
            self._engine.cancel(str(order_id), self._now(at))
        finally:
            self._collect()

    def order_status(self, order_id: UUID) -> tuple[str, float, float] | None:
        """(status, filled, leaves), or None for an order the gateway never took."""
        return self._engine.order_status(str(order_id))

    def reached_venue(self, order_id: UUID) -> bool:
        """Whether the gate let `order_id` out to a venue (in this run, or restored from an
        earlier one); False for an order it never took, denied, or only parked for approval."""
        status = self._engine.order_status(str(order_id))
        return status is not None and status[0] not in NOT_AT_A_VENUE

    def order(self, order_id: UUID | str) -> Order | None:
        """The order this gateway was given under `order_id` (None if it never saw it, or
        saw it more than 10,000 orders ago and it is no longer live)."""
        key = str(order_id)
        found = self._orders.get(key)
        return found or next(
            (o for o in reversed(self._recent_orders) if str(o.order_id) == key), None
        )

    def open_orders(self) -> list[UUID]:
        return [UUID(i) for i in self._engine.open_order_ids()]

    def check_batch(
        self,
        instrument: npt.NDArray[np.uint32],
        strategy: npt.NDArray[np.uint32],
        side: npt.NDArray[np.uint8],
        order_type: npt.NDArray[np.uint8],
        price: npt.NDArray[np.float64],
        quantity: npt.NDArray[np.float64],
        *,
        at: datetime | None = None,
    ) -> BatchDecisions:
        """Screen many orders against the current state (what-if; nothing is consumed).

        Instruments and strategies are indices (`instrument_index`, `strategy_index`); side
        0 buy / 1 sell; type 0 market / 1 limit; price NaN for market orders."""
        verdicts, masks = self._engine.check_batch(
            np.ascontiguousarray(instrument, dtype=np.uint32),
            np.ascontiguousarray(strategy, dtype=np.uint32),
            np.ascontiguousarray(side, dtype=np.uint8),
            np.ascontiguousarray(order_type, dtype=np.uint8),
            np.ascontiguousarray(price, dtype=np.float64),
            np.ascontiguousarray(quantity, dtype=np.float64),
            self._now(at),
        )
        return BatchDecisions(
            np.frombuffer(verdicts, dtype=np.uint8), np.frombuffer(masks, dtype=np.uint64)
        )

    def instrument_index(self, venue_id: str, symbol: str) -> int:
        index = self._engine.instrument_index(instrument_id(venue_id, symbol))
        if index is None:
            raise KeyError(f"unknown instrument {venue_id}:{symbol}")
        return index

    def strategy_index(self, strategy_id: str) -> int:
        index = self._engine.strategy_index(strategy_id)
        if index is None:
            raise KeyError(f"unknown strategy {strategy_id}")
        return index

    # -- approval (the human approval step calls these; agents are never given them) ------

    def pending_approval(self, order_id: UUID) -> bool:
        status = self._engine.order_status(str(order_id))
        return status is not None and status[0] == "pending_approval"

    def approve(
        self, order_id: UUID, approver: str, *, ttl_s: float = 300, at: datetime | None = None
    ) -> str:
        try:
            return self._engine.approve(str(order_id), approver, int(ttl_s * 1000), self._now(at))
        finally:
            self._collect()

    def refuse(self, order_id: UUID, approver: str, *, at: datetime | None = None) -> None:
        try:
            self._engine.refuse_approval(str(order_id), approver, self._now(at))
        finally:
            self._collect()

    # -- trading state ----------------------------------------------------------------------

    def kill_switch(
        self, actor: Actor | str, reason: str, *, at: datetime | None = None, flush: bool = True
    ) -> list[UUID]:
        """Cancel every open order and HALT, in one call; recorded at once. Anyone may stop
        the desk, so `actor` is recorded as given. `flush=False`: no store write here at all,
        so any thread may pull the switch without waiting for whoever holds the store (the
        caller flushes later, under its lock)."""
        canceled = self._engine.kill(str(actor), reason, self._now(at))
        self._collect(auto_flush=flush)
        if flush:
            self.flush()
        return [UUID(i) for i in canceled]

    def rearm(self, actor: Actor | str, reason: str, *, at: datetime | None = None) -> None:
        """Lift HALTED or REDUCING back to ACTIVE. The engine parses `actor` ("human:alice"
        or an `Actor`) and refuses anyone but a named human: GatewayError REARM_REFUSED, and
        a `rearm.refused` event in the audit log."""
        try:
            self._engine.rearm(str(actor), reason, self._now(at))
        finally:
            self._collect()
            self.flush()

    def set_trading_state(
        self,
        state: TradingState,
        actor: Actor | str,
        reason: str,
        *,
        strategy_id: str | None = None,
        at: datetime | None = None,
        flush: bool = True,
    ) -> None:
        """`flush=False`: as for `kill_switch`, no store write here (the caller flushes)."""
        try:
            self._engine.set_trading_state(
                strategy_id, state.value, str(actor), reason, self._now(at)
            )
        finally:
            self._collect(auto_flush=flush)
        if flush:
            self.flush()

    @property
    def trading_state(self) -> TradingState:
        return TradingState(self._engine.account_state)

    def strategy_state(self, strategy_id: str) -> TradingState:
        state = self._engine.strategy_state(strategy_id)
        if state is None:
            raise KeyError(f"unknown strategy {strategy_id}")
        return TradingState(state)

    # -- market data and time ---------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        interval_ms = int(bar.interval.duration.total_seconds() * 1000)
        try:
            self._engine.on_bar(
                instrument_id(bar.venue_id, bar.symbol),
                to_ms(bar.ts),
                interval_ms,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
            )
        finally:
            self._collect()
        for listener in self._bar_listeners:
            try:
                listener(bar)
            except Exception:
                log.exception("gateway: a bar listener failed")

    def on_trade(self, trade: Trade) -> None:
        try:
            self._engine.on_trade(
                instrument_id(trade.venue_id, trade.symbol),
                to_ms(trade.ts),
                trade.price,
                trade.quantity,
            )
        finally:
            self._collect()

    def set_reference(
        self, venue_id: str, symbol: str, price: float, *, at: datetime | None = None
    ) -> None:
        self._engine.set_reference(instrument_id(venue_id, symbol), price, self._now(at))
        self._collect()

    def set_venue_up(self, venue_id: str, symbol: str, up: bool) -> None:
        self._engine.set_venue_up(instrument_id(venue_id, symbol), up)

    def advance(self, at: datetime | None = None) -> None:
        self._engine.advance(self._now(at))
        self._collect()

    # -- external venue reports -------------------------------------------------------------

    def venue_report(self, order_id: UUID, kind: str, *, at: datetime | None = None) -> str:
        try:
            return self._engine.venue_report(str(order_id), kind, self._now(at))
        finally:
            self._collect()

    def venue_fill(
        self,
        order_id: UUID,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        maker: bool = False,
        at: datetime | None = None,
    ) -> None:
        try:
            self._engine.venue_fill(str(order_id), quantity, price, fee, maker, self._now(at))
        finally:
            self._collect()

    def restore_fills(self, fills: Iterable[Fill]) -> tuple[int, list[str]]:
        """Book this account's fills from an earlier run (oldest first) so a restarted gateway
        holds the same positions, cash, realised PnL and fees; only before the first order.
        Returns how many were booked and why any were skipped (a strategy or instrument the
        current limits no longer list)."""
        booked, skipped = 0, []
        for fill in fills:
            if fill.account_id != self.limits.account_id:
                continue
            try:
                self._engine.restore_fill(
                    fill.strategy_id, f"{fill.venue_id}:{fill.symbol}", fill.side.value,
                    fill.quantity, fill.price, fill.fee,
                )  # fmt: skip
                booked += 1
            except GatewayError as exc:
                if "before the first order" in str(exc):
                    raise
                skipped.append(f"{fill.fill_id}: {exc}")
        return booked, skipped

    def restore_order(
        self, order_id: str, client_order_id: str, status: str, filled: float
    ) -> None:
        """Know an order an earlier run sent to a venue, closed, so its id is never sent again
        (only before the first order)."""
        self._engine.restore_order(order_id, client_order_id, status, filled)

    def restore_state(self, record: StateRecord) -> bool:
        """Put a scope back in the trading state an earlier run left it in (REDUCING or
        HALTED; only a human's rearm lifts them). False for a strategy the limits no longer
        list. Not journaled again: the journal already holds it, with who and why."""
        strategy = record.scope.split(":", 1)[1] if record.scope.startswith("strategy:") else None
        if strategy is not None and self._engine.strategy_index(strategy) is None:
            return False
        reason = f"restored after restart: {record.state} since {record.actor}: {record.reason}"
        self._restoring = True
        try:
            self._engine.set_trading_state(
                strategy, record.state, "service:gateway-restore", reason, self._now(None)
            )
            self._collect(auto_flush=False)
        finally:
            self._restoring = False
        return True

    def restore(self, venue_lookup: VenueLookup | None = None) -> RestoreReport:
        """Take up where the last run of this account stopped (see gateway.restore)."""
        if self._trades is None:
            return RestoreReport()
        account = self.limits.account_id
        return restore_gateway(
            self,
            self._trades.booked_fills(account),
            self._trades.last_order_states(account),
            venue_lookup,
        )

    # -- ledger -----------------------------------------------------------------------------

    def positions(self, *, at: datetime | None = None) -> list[Position]:
        as_of = at if at is not None else self.clock()
        out = []
        for strategy, inst, qty, avg, realized, _fees, mark in self._engine.positions():
            venue_id, symbol = inst.split(":", 1)
            out.append(
                Position(
                    account_id=self.limits.account_id,
                    strategy_id=strategy,
                    venue_id=venue_id,
                    symbol=symbol,
                    quantity=qty,
                    average_price=avg,
                    realized_pnl=realized,
                    unrealized_pnl=(mark - avg) * qty if mark is not None else 0.0,
                    as_of=as_of,
                )
            )
        return out

    def holdings(self) -> dict[str, float]:
        """The account's quantity per instrument ("venue:symbol"), summed over strategies."""
        out: dict[str, float] = {}
        for _strategy, inst, qty, *_rest in self._engine.positions():
            out[inst] = out.get(inst, 0.0) + qty
        return out

    def fees(self) -> float:
        return sum(p[5] for p in self._engine.positions())

    def account(self) -> Account:
        return Account(
            account_id=self.limits.account_id,
            cash=self._engine.cash,
            trading_state=self.trading_state,
            starting_equity=self.limits.starting_cash or None,
        )

    @property
    def equity(self) -> float:
        return self._engine.equity

    def close(self) -> None:
        self._collect()
        self.flush()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Gateway", "Side", "instrument_id", "to_ms", "wall_clock"]
