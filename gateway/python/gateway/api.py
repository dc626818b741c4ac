"""The gateway's Python API: pydantic models in, pydantic models out, the Rust engine between.

The `Gateway` is the engine's Python face. What the engine does is written by its recorder
(gateway/recorder.py: audit log, trade log, safety journal) at the end of every call the
gateway serves, under the store's lock, and handed to listeners (gateway/fanout.py). No
caller flushes.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar
from uuid import UUID

import numpy as np
import numpy.typing as npt

from core.faults import crash_point
from core.models.market import Bar, Trade
from core.models.trading import (
    Account,
    Fill,
    Order,
    Position,
    Side,
    TradingState,
)
from core.store import Store
from gateway._core import Engine, GatewayError, OrderRequest
from gateway.actor import Actor
from gateway.decisions import ApprovalNeed, BatchDecisions, GateDecision, Verdict
from gateway.fanout import BarListener, EventFanout, EventListener
from gateway.journal import SafetyJournal, StateRecord
from gateway.limits import GateLimits, load_limits
from gateway.recorder import Clock, GateRecorder, to_ms
from gateway.restore import NOT_AT_A_VENUE, RestoreReport, VenueLookup, restore_gateway

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def wall_clock() -> datetime:
    return datetime.now(UTC)


def instrument_id(venue_id: str, symbol: str) -> str:
    return f"{venue_id}:{symbol}"


@dataclass(frozen=True)
class GateStrategy:
    """A strategy the gate trades under: its own id, the risk class whose limit it has, and
    its trading state."""

    strategy_id: str
    risk_class: str
    max_position_notional: float
    state: TradingState


def _writes(method: Callable[Concatenate[Gateway, P], R]) -> Callable[Concatenate[Gateway, P], R]:
    """A call the gateway serves ends with what it caused written down, even when it fails
    (a refused rearm is recorded too)."""

    @functools.wraps(method)
    def served(self: Gateway, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._write()

    return served


class Gateway:
    """The only way an order reaches a venue. `venue="paper"` fills on the built-in paper
    venue; `venue="external"` leaves execution to a venue adapter that reports back.
    `store_lock` guards the store: whoever else uses the same store takes it too (the desk
    host and the execution service use this one)."""

    def __init__(
        self,
        limits: GateLimits,
        *,
        venue: Literal["paper", "external"] = "paper",
        store: Store | None = None,
        clock: Clock = wall_clock,
        actor: str = "gateway",
        journal: SafetyJournal | None = None,
        store_lock: threading.RLock | None = None,
    ) -> None:
        self.limits = limits
        self.journal = journal
        self._restoring = False
        self._engine = Engine(limits.to_engine_json(), external=venue == "external")
        self.recorder = GateRecorder(
            limits.limits_version, store=store, journal=journal, actor=actor, clock=clock
        )
        self.fanout = EventFanout()
        self.store_lock = store_lock or threading.RLock()
        self.clock = clock
        self.actor = actor
        self.venue_mode = venue

    @classmethod
    def from_file(cls, path: str, **kwargs: Any) -> Gateway:
        return cls(load_limits(path), **kwargs)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self, at: datetime | None) -> int:
        return to_ms(at if at is not None else self.clock())

    @property
    def recent_events(self) -> deque[dict[str, Any]]:
        """The last 10,000 events (the engine's and the desk's own), oldest first."""
        return self.recorder.recent_events

    def listen(self, listener: EventListener) -> Callable[[], None]:
        """Hand every batch of engine events (decisions, fills, state moves), whoever caused
        them, to `listener`, after the recorder has them; returns what stops it."""
        return self.fanout.listen(listener)

    def listen_bars(self, listener: BarListener) -> Callable[[], None]:
        """Hand every bar the gate accepts (its reference prices, the paper venue's market) to
        `listener`; returns what stops it."""
        return self.fanout.listen_bars(listener)

    def _collect(self) -> None:
        """Drain the engine's events into the recorder, then the listeners."""
        events = self._engine.drain_events()
        self.recorder.take(events, journal_states=not self._restoring)
        self.fanout.events(events)

    def _write(self, *, wait: bool = True) -> None:
        """Write what the recorder holds, under the store's lock. `wait=False`: if someone
        holds the store (a PM turn), a writer thread waits for it instead of the caller."""
        if not self.recorder.pending:
            return
        if self.store_lock.acquire(blocking=wait):
            try:
                self.recorder.write()
            finally:
                self.store_lock.release()
        else:
            threading.Thread(target=self._write, name="gateway-writer", daemon=True).start()

    @_writes
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
        """Record an event of the desk's own (a venue error, an approval answer, a
        reconciliation) in the audit log, with the same limits version as the gate's."""
        self.recorder.record(
            kind, payload, actor=actor, order_id=order_id, reason_codes=reason_codes, at=at
        )

    def _decision(self, order_id: UUID, raw: tuple[str, list[str]]) -> GateDecision:
        self._collect()
        return GateDecision.of(order_id, raw, self.limits.limits_version)

    @staticmethod
    def _request(order: Order) -> OrderRequest:
        return OrderRequest(
            order_id=str(order.order_id),
            client_order_id=order.client_order_id,
            account_id=order.account_id,
            strategy_id=order.strategy_id,
            instrument_id=instrument_id(order.venue_id, order.symbol),
            side=order.side.value,
            order_type=order.order_type.value,
            quantity=order.quantity,
            price=order.limit_price,
            time_in_force=order.time_in_force.value,
            expire_at_ms=to_ms(order.expire_at) if order.expire_at is not None else None,
            reduce_only=order.reduce_only,
        )

    # -- orders ----------------------------------------------------------------------------

    def check(self, order: Order, *, at: datetime | None = None) -> GateDecision:
        """What the gate would decide, without sending anything."""
        answer = self._engine.check(self._request(order), self._now(at))
        return GateDecision.of(order.order_id, answer, self.limits.limits_version)

    @_writes
    def submit(
        self, order: Order, *, approval_token: str | None = None, at: datetime | None = None
    ) -> GateDecision:
        self.recorder.track(order)
        if self.journal is not None:
            self.journal.sending(order, self._now(at))
            crash_point("order.journaled")
        raw = self._engine.submit(self._request(order), approval_token, self._now(at))
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
            self.recorder.untrack(str(order.order_id))
        return decision

    @_writes
    def modify(
        self,
        order_id: UUID,
        *,
        price: float | None = None,
        quantity: float | None = None,
        at: datetime | None = None,
    ) -> GateDecision:
        raw = self._engine.modify(str(order_id), price, quantity, self._now(at))
        known = self.recorder.tracked(str(order_id))
        if raw[0] == Verdict.ACCEPT and known is not None:
            status = self._engine.order_status(str(order_id))
            update: dict[str, Any] = {}
            if price is not None:
                update["limit_price"] = price
            if quantity is not None and status is not None:
                update["quantity"] = status[1] + quantity
            self.recorder.replace(known.model_copy(update=update))
        return self._decision(order_id, raw)

    @_writes
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
        return self.recorder.order(str(order_id))

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

    # -- strategies -------------------------------------------------------------------------

    @_writes
    def add_strategy(
        self, strategy_id: str, risk_class: str, *, at: datetime | None = None
    ) -> None:
        """Trade `strategy_id` under its own id from now on, with the position limit of
        `risk_class` (a `[[strategies]]` entry of the limits) and a trading state of its own,
        ACTIVE. GatewayError STRATEGY_EXISTS for an id the gate already has, RISK_CLASS_UNKNOWN
        for a class the limits do not list. Recorded (`gate.strategy_added`)."""
        try:
            self._engine.add_strategy(strategy_id, risk_class, self._now(at))
        finally:
            self._collect()

    def has_strategy(self, strategy_id: str) -> bool:
        return self._engine.strategy_index(strategy_id) is not None

    def strategies(self) -> list[GateStrategy]:
        """Every strategy the gate trades under: the limits' risk classes first, then those
        added, in the order they were."""
        return [
            GateStrategy(sid, cls, limit, TradingState(state))
            for sid, cls, limit, state in self._engine.strategies()
        ]

    # -- approval (the human approval step calls these; agents are never given them) ------

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

    # -- trading state ----------------------------------------------------------------------

    def kill_switch(
        self, actor: Actor | str, reason: str, *, at: datetime | None = None, wait: bool = True
    ) -> list[UUID]:
        """Cancel every open order and HALT, in one call, at once: the engine acts before
        anything waits. Anyone may stop the desk, so `actor` is recorded as given. The call
        returns once that is recorded; `wait=False`: at once, and a writer thread records it
        when whoever holds the store (a PM turn) lets go. The halt is journaled either way."""
        canceled = self._engine.kill(str(actor), reason, self._now(at))
        self._collect()
        self._write(wait=wait)
        return [UUID(i) for i in canceled]

    def rearm(self, actor: Actor | str, reason: str, *, at: datetime | None = None) -> None:
        """Lift HALTED or REDUCING back to ACTIVE. The engine parses `actor` ("human:alice"
        or an `Actor`) and refuses anyone but a named human: GatewayError REARM_REFUSED, and
        a `rearm.refused` event in the audit log."""
        try:
            self._engine.rearm(str(actor), reason, self._now(at))
        finally:
            self._collect()
            self._write()

    def set_trading_state(
        self,
        state: TradingState,
        actor: Actor | str,
        reason: str,
        *,
        strategy_id: str | None = None,
        at: datetime | None = None,
        wait: bool = True,
    ) -> None:
        """`wait=False`: as for `kill_switch`, the state moves at once and is recorded when
        the store is free."""
        try:
            self._engine.set_trading_state(
                strategy_id, state.value, str(actor), reason, self._now(at)
            )
        finally:
            self._collect()
            self._write(wait=wait)

    @property
    def trading_state(self) -> TradingState:
        return TradingState(self._engine.account_state)

    def strategy_state(self, strategy_id: str) -> TradingState:
        state = self._engine.strategy_state(strategy_id)
        if state is None:
            raise KeyError(f"unknown strategy {strategy_id}")
        return TradingState(state)

    # -- market data and time ---------------------------------------------------------------

    @_writes
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
        self.fanout.bar(bar)

    @_writes
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

    @_writes
    def set_reference(
        self, venue_id: str, symbol: str, price: float, *, at: datetime | None = None
    ) -> None:
        self._engine.set_reference(instrument_id(venue_id, symbol), price, self._now(at))
        self._collect()

    def set_venue_up(self, venue_id: str, symbol: str, up: bool) -> None:
        self._engine.set_venue_up(instrument_id(venue_id, symbol), up)

    @_writes
    def advance(self, at: datetime | None = None) -> None:
        self._engine.advance(self._now(at))
        self._collect()

    # -- external venue reports -------------------------------------------------------------

    @_writes
    def venue_report(self, order_id: UUID, kind: str, *, at: datetime | None = None) -> str:
        try:
            return self._engine.venue_report(str(order_id), kind, self._now(at))
        finally:
            self._collect()

    @_writes
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
            self._collect()
        finally:
            self._restoring = False
        return True

    @_writes
    def restore(self, venue_lookup: VenueLookup | None = None) -> RestoreReport:
        """Take up where the last run of this account stopped (see gateway.restore)."""
        trades = self.recorder.trades
        if trades is None:
            return RestoreReport()
        account = self.limits.account_id
        return restore_gateway(
            self, trades.booked_fills(account), trades.last_order_states(account), venue_lookup
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
        self._write()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["GateStrategy", "Gateway", "Side", "instrument_id", "to_ms", "wall_clock"]
