"""The engine's Python face, its common part: the engine, its recorder and fan-out, the clock,
and how a call ends (what it caused written under the store's lock). The calls themselves
are grouped by what they touch (order_calls, strategy_calls, approval_calls, state_calls,
market_calls, restore_calls, ledger_calls) and composed into `gateway.api.Gateway`.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, Literal, ParamSpec, Self, TypeVar
from uuid import UUID

from core.store import Store
from gateway._core import Engine
from gateway.decisions import GateDecision
from gateway.deferred_audit import DeferredAudit
from gateway.fanout import BarListener, EventFanout, EventListener
from gateway.journal import SafetyJournal
from gateway.limits import GateLimits, load_limits
from gateway.recorder import Clock, GateRecorder, to_ms

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound="EngineFace")


def wall_clock() -> datetime:
    return datetime.now(UTC)


def instrument_id(venue_id: str, symbol: str) -> str:
    return f"{venue_id}:{symbol}"


def _writes(method: Callable[Concatenate[F, P], R]) -> Callable[Concatenate[F, P], R]:
    """A call the gateway serves ends with what it caused written down, even when it fails
    (a refused rearm is recorded too)."""

    @functools.wraps(method)
    def served(self: F, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._write()

    return served


class EngineFace:
    """The engine and what every call on it needs."""

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
        audit = self.recorder.audit
        self.deferred = (
            DeferredAudit(journal, audit, self.store_lock)
            if journal is not None and audit is not None
            else None
        )
        self.clock = clock
        self.actor = actor
        self.venue_mode = venue
        # The trace of the request being served, for what the fast path publishes from the
        # engine (gateway.fast_path); the desk points it at its logging context.
        self.trace_source: Callable[[], str | None] | None = None

    @classmethod
    def from_file(cls, path: str, **kwargs: Any) -> Self:
        return cls(load_limits(path), **kwargs)

    def _now(self, at: datetime | None) -> int:
        if at is None and self.clock is wall_clock:
            # The same milliseconds without making a datetime (a third of a check's cost).
            return time.time_ns() // 1_000_000
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
        trace = self.trace_source() if self.trace_source is not None else None
        events = self._engine.drain_events(trace)
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
        soon: bool = False,
    ) -> None:
        """Record an event of the desk's own (a venue error, an approval answer, a
        reconciliation) in the audit log, with the same limits version as the gate's.
        `soon`: for an event no money waits on (the PM's decision on a turn), journaled
        before this returns and in the audit log soon after, off the caller's path, and
        before the desk host reads the log (gateway.deferred_audit); without a journal, at
        once as any other."""
        event = self.recorder.event(
            kind, payload, actor=actor, order_id=order_id, reason_codes=reason_codes, at=at
        )
        if soon and self.deferred is not None:
            self.recorder.record(event, written_elsewhere=True)
            self.deferred.put(event)
            return
        self.recorder.record(event)

    def settle_audit(self) -> None:
        """Write the held audit rows now, for a reader that must see them."""
        if self.deferred is not None:
            self.deferred.settle()

    def _decision(self, order_id: UUID, raw: tuple[str, list[str]]) -> GateDecision:
        self._collect()
        return GateDecision.of(order_id, raw, self.limits.limits_version)

    def close(self) -> None:
        self._collect()
        self._write()
        if self.deferred is not None:
            self.deferred.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
