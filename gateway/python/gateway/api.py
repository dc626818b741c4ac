"""The gateway's Python API: pydantic models in, pydantic models out, the Rust engine between.

The `Gateway` is the engine's Python face. What the engine does is written by its recorder
(gateway/recorder.py: audit log, trade log, safety journal) at the end of every call the
gateway serves, under the store's lock, and handed to listeners (gateway/fanout.py). No
caller flushes.
"""

from __future__ import annotations

from core.models.trading import Side
from gateway.approval_calls import ApprovalCalls
from gateway.face import _writes, instrument_id, wall_clock
from gateway.ledger_calls import LedgerCalls
from gateway.market_calls import MarketCalls
from gateway.order_calls import OrderCalls
from gateway.recorder import to_ms
from gateway.restore import RestoreReport, VenueLookup, restore_gateway
from gateway.restore_calls import RestoreCalls
from gateway.state_calls import StateCalls
from gateway.strategy_calls import GateStrategy, StrategyCalls


class Gateway(
    OrderCalls, StrategyCalls, ApprovalCalls, LedgerCalls, StateCalls, MarketCalls, RestoreCalls
):
    """The only way an order reaches a venue. `venue="paper"` fills on the built-in paper
    venue; `venue="external"` leaves execution to a venue adapter that reports back.
    `store_lock` guards the store: whoever else uses the same store takes it too (the desk
    host and the execution service use this one)."""

    @_writes
    def restore(self, venue_lookup: VenueLookup | None = None) -> RestoreReport:
        """Take up where the last run of this account stopped (see gateway.restore)."""
        # The rows a killed process journaled but never wrote.
        self.settle_audit()
        trades = self.recorder.trades
        if trades is None:
            return RestoreReport()
        account = self.limits.account_id
        return restore_gateway(
            self, trades.booked_fills(account), trades.last_order_states(account), venue_lookup
        )


__all__ = ["GateStrategy", "Gateway", "Side", "instrument_id", "to_ms", "wall_clock"]
