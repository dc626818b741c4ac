"""Taking up an earlier run's fills, orders and trading states (only before the first order)."""

from __future__ import annotations

from collections.abc import Iterable

from core.models.trading import Fill
from gateway._core import GatewayError
from gateway.face import EngineFace
from gateway.journal import StateRecord


class RestoreCalls(EngineFace):
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
