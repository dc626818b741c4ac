"""Live trading: the gate decides, then a venue adapter sends. Venue reports (acks, fills,
cancels) go back through the engine's state machine and ledger, so paper and live share
every rule. On start-up `reconcile` compares our orders and positions with the venue's."""

from __future__ import annotations

import logging
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from core.models.trading import Order, TradingState
from gateway.api import Gateway, instrument_id
from gateway.decisions import GateDecision
from gateway.venues.ccxt_venue import VenueError, VenueOrderState
from gateway.venues.protocol import Venue

log = logging.getLogger(__name__)


class BalanceMismatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    ours: float
    venue: float


class Reconciliation(BaseModel):
    """What start-up found. Anything but `ok` moves the account to REDUCING (fail safe)."""

    model_config = ConfigDict(frozen=True)

    unknown_venue_orders: tuple[str, ...]
    synced_orders: tuple[UUID, ...]
    balance_mismatches: tuple[BalanceMismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.unknown_venue_orders and not self.balance_mismatches


class LiveExecutor:
    """Routes the gateway's accepted orders to one live venue and books what comes back."""

    def __init__(self, gateway: Gateway, venue: Venue, *, venue_id: str) -> None:
        if gateway.venue_mode != "external":
            raise ValueError("a live executor needs a Gateway built with venue='external'")
        self.gateway = gateway
        self.venue = venue
        self.venue_id = venue_id
        self._venue_ids: dict[UUID, str] = {}
        self._orders: dict[UUID, Order] = {}
        self._booked: dict[UUID, set[str]] = {}

    def _venue_error(self, order_id: UUID, action: str, error: VenueError) -> None:
        self.gateway.record(
            "venue.error",
            {"action": action, "code": error.code, "message": str(error)},
            order_id=order_id,
            reason_codes=(error.code,),
        )

    def submit(self, order: Order, *, approval_token: str | None = None) -> GateDecision:
        if order.venue_id != self.venue_id:
            raise ValueError(f"this executor trades {self.venue_id}, not {order.venue_id}")
        decision = self.gateway.submit(order, approval_token=approval_token)
        if not decision.accepted:
            return decision
        try:
            venue_order_id = self.venue.place(order)
        except VenueError as error:
            self._venue_error(order.order_id, "place", error)
            self.gateway.venue_report(order.order_id, "rejected")
            return decision
        self._venue_ids[order.order_id] = venue_order_id
        self._orders[order.order_id] = order
        self._booked[order.order_id] = set()
        self.gateway.venue_report(order.order_id, "accepted")
        self.sync_order(order.order_id)
        return decision

    def _apply(self, order_id: UUID, state: VenueOrderState) -> None:
        booked = self._booked.setdefault(order_id, set())
        for fill in state.fills:
            if fill.fill_id in booked:
                continue
            self.gateway.venue_fill(order_id, fill.quantity, fill.price, fee=fill.fee)
            booked.add(fill.fill_id)
        status = self.gateway.order_status(order_id)
        if status is None:
            return
        if state.status == "canceled" and status[0] not in ("canceled", "filled"):
            self.gateway.venue_report(order_id, "canceled")

    def sync_order(self, order_id: UUID) -> None:
        """Fetch one order's state at the venue and book new fills and a cancel."""
        order = self._orders[order_id]
        try:
            state = self.venue.order_state(self._venue_ids[order_id], order.symbol)
        except VenueError as error:
            self._venue_error(order_id, "fetch_order", error)
            return
        self._apply(order_id, state)

    def sync(self) -> None:
        for order_id in self.gateway.open_orders():
            if order_id in self._venue_ids:
                self.sync_order(order_id)

    def sync_venue_orders(self, venue_order_ids: list[str]) -> None:
        """Read again the orders a venue's stream named (Alpaca's trade updates)."""
        wanted = set(venue_order_ids)
        for order_id, venue_order_id in list(self._venue_ids.items()):
            if venue_order_id in wanted:
                self.sync_order(order_id)

    def cancel(self, order_id: UUID) -> None:
        self.gateway.cancel(order_id)
        self._cancel_at_venue(order_id)

    def _cancel_at_venue(self, order_id: UUID) -> None:
        order = self._orders[order_id]
        try:
            self.venue.cancel(self._venue_ids[order_id], order.symbol)
        except VenueError as error:
            self._venue_error(order_id, "cancel", error)
        # Whatever the answer, the venue's own record of the order decides what we book:
        # fills that raced the cancel are booked first.
        self.sync_order(order_id)
        status = self.gateway.order_status(order_id)
        if status is not None and status[0] == "pending_cancel":
            self.gateway.venue_report(order_id, "cancel_rejected")

    def kill_switch(self, actor: str, reason: str) -> list[UUID]:
        """HALT and cancel everything at the venue; each cancel is tried even if one fails."""
        canceled = self.gateway.kill_switch(actor, reason)
        for order_id in canceled:
            if order_id in self._venue_ids:
                self._cancel_at_venue(order_id)
        return canceled

    def reconcile(self, *, tolerance: float = 1e-8) -> Reconciliation:
        """Compare the venue's open orders and balances with ours; any difference moves the
        account to REDUCING until a human looks (and rearms)."""
        venue_open = self.venue.open_orders()
        ours = {o.client_order_id: oid for oid, o in self._orders.items()}
        unknown = tuple(
            state.venue_order_id for state in venue_open if state.client_order_id not in ours
        )
        synced = []
        listed = {state.venue_order_id for state in venue_open}
        for order_id in self.gateway.open_orders():
            if order_id in self._venue_ids and self._venue_ids[order_id] not in listed:
                self.sync_order(order_id)
                synced.append(order_id)
        balances = self.venue.balances()
        expected: dict[str, float] = {}
        quote_currencies = set()
        for position in self.gateway.positions():
            if position.venue_id != self.venue_id:
                continue
            base, quote = _currencies(position.symbol)
            expected[base] = expected.get(base, 0.0) + position.quantity
            quote_currencies.add(quote)
        for inst in self.gateway.limits.instruments:
            venue_id, symbol = inst.id.split(":", 1)
            if venue_id == self.venue_id:
                base, quote = _currencies(symbol)
                expected.setdefault(base, 0.0)
                quote_currencies.add(quote)
        for quote in quote_currencies:
            expected[quote] = self.gateway.account().cash
        mismatches = tuple(
            BalanceMismatch(
                currency=c, ours=ours_qty, venue=balances[c].total if c in balances else 0.0
            )
            for c, ours_qty in sorted(expected.items())
            if abs((balances[c].total if c in balances else 0.0) - ours_qty)
            > tolerance * max(1.0, abs(ours_qty))
        )
        report = Reconciliation(
            unknown_venue_orders=unknown, synced_orders=tuple(synced), balance_mismatches=mismatches
        )
        self.gateway.record(
            "venue.reconciliation", report.model_dump(mode="json"), actor="reconciliation"
        )
        if not report.ok and self.gateway.trading_state is TradingState.ACTIVE:
            self.gateway.set_trading_state(
                TradingState.REDUCING, "reconciliation", "venue state differs from ours"
            )
        return report


def _currencies(symbol: str) -> tuple[str, str]:
    """What a position is held in and paid in: BTC/USD -> (BTC, USD); a share, GOOG -> (GOOG,
    USD), as US equity venues hold shares under their symbol."""
    base, _, quote = symbol.partition("/")
    return base, quote or "USD"


__all__ = ["BalanceMismatch", "LiveExecutor", "Reconciliation", "instrument_id"]
