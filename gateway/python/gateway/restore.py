"""A restarted gateway takes up where the last one stopped, before it takes any order:
positions from the booked fills, every order that reached a venue (so the same order id is
never sent twice), and the account's and strategies' trading states (so a halt is never
forgotten). Orders the journal caught mid-flight are reconciled against the booked fills and
the venue's own state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.models.trading import Fill, TradingState

if TYPE_CHECKING:
    from gateway.api import Gateway
    from gateway.journal import StateRecord

VenueLookup = Callable[[str], tuple[str, float] | None]
"""(status, filled) of a client order id at the venue, or None when the venue never saw it.
The paper venue lives in the process, so after a restart it has seen nothing."""

NOT_AT_A_VENUE = frozenset({"", "unsent", "pending_approval", "denied", "initialized"})
_EPS = 1e-9


@dataclass
class RestoreReport:
    fills: int = 0
    skipped: list[str] = field(default_factory=list)
    orders: int = 0
    reconciled: list[dict[str, Any]] = field(default_factory=list)
    states: list[StateRecord] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "fills": self.fills,
            "skipped": self.skipped[:50],
            "orders": self.orders,
            "reconciled": self.reconciled[:50],
            "states": [f"{s.scope}={s.state} ({s.actor}: {s.reason})" for s in self.states],
        }


def _filled_by_order(fills: list[Fill]) -> dict[str, float]:
    out: dict[str, float] = {}
    for fill in fills:
        out[str(fill.order_id)] = out.get(str(fill.order_id), 0.0) + fill.quantity
    return out


def restore_gateway(
    gateway: Gateway,
    fills: list[Fill],
    store_orders: list[tuple[str, str, str, float]],
    venue_lookup: VenueLookup | None = None,
) -> RestoreReport:
    """Fills, then orders, then trading states: the engine takes history only before its
    first order, and a halt restored first would not change what history says."""
    report = RestoreReport()
    report.fills, report.skipped = gateway.restore_fills(fills)
    filled = _filled_by_order(fills)
    restored: set[str] = set()
    journal = gateway.journal
    now_ms = int(gateway.clock().timestamp() * 1000)
    for entry in journal.orders() if journal is not None else []:
        order_id, client_id = str(entry.order.order_id), entry.order.client_order_id
        if entry.stage == "booked":
            if entry.status in NOT_AT_A_VENUE:
                continue
            gateway.restore_order(order_id, client_id, entry.status, entry.filled)
            restored.add(order_id)
            continue
        # `sending`: the process died between the write-ahead and the booking.
        at_venue = venue_lookup(client_id) if venue_lookup is not None else None
        booked = filled.get(order_id, 0.0)
        if booked > _EPS or at_venue is not None:
            status = at_venue[0] if at_venue is not None else (
                "filled" if booked >= entry.order.quantity - _EPS else "partially_filled"
            )  # fmt: skip
            gateway.restore_order(order_id, client_id, status, booked)
            restored.add(order_id)
            outcome = f"reached the venue ({status}); booked fills {booked:g}"
            if journal is not None:
                journal.booked([(order_id, status, booked)], now_ms)
        else:
            outcome = "never reached a venue: it may be sent again"
            if journal is not None:
                journal.not_sent(order_id, "unsent", now_ms)
        report.reconciled.append({"order_id": order_id, "outcome": outcome})
    for order_id, client_id, status, qty in store_orders:
        if order_id not in restored and status not in NOT_AT_A_VENUE:
            gateway.restore_order(order_id, client_id, status, max(qty, filled.get(order_id, 0)))
            restored.add(order_id)
    report.orders = len(restored)
    for record in journal.states() if journal is not None else []:
        if record.state != TradingState.ACTIVE.value and gateway.restore_state(record):
            report.states.append(record)
    return report
