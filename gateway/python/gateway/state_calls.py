"""The trading state: the kill switch, a human's rearm, REDUCING, per strategy or account."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from core.models.trading import TradingState
from gateway.actor import Actor
from gateway.face import EngineFace


class StateCalls(EngineFace):
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

    def apply_latch(self) -> None:
        """Take what the fast path latched (gateway.fast_path) into the engine's state and
        events; the trading-state moves are journaled now, their audit rows written when the
        store is free (as `kill_switch(wait=False)`)."""
        self._collect()
        self._write(wait=False)

    @property
    def trading_state(self) -> TradingState:
        return TradingState(self._engine.account_state)

    def strategy_state(self, strategy_id: str) -> TradingState:
        state = self._engine.strategy_state(strategy_id)
        if state is None:
            raise KeyError(f"unknown strategy {strategy_id}")
        return TradingState(state)
