"""Sending the desk's orders, only through the gateway: one order (sent once however often
its turn re-runs), a reduce, a close or a flatten (reduce-only orders sized from the book,
never from the request), a cancel of resting orders, and the halt (the kill switch)."""

from __future__ import annotations

from datetime import datetime

from core.models.trading import Order
from gateway import GateDecision, Gateway, Verdict
from tools.instruments import InstrumentBook, NoInstrument
from tools.orders.build import reduce_orders
from tools.orders.report import (
    CancelResult,
    HaltResult,
    OrderError,
    ReduceResult,
    execution_report,
)


def sent_before(gateway: Gateway, order: Order) -> GateDecision | None:
    """The gate's earlier acceptance if `order` already went to a venue (in this run, or in
    one that died before the conversation was saved): a re-run of the turn reports it and
    sends nothing. None for an order the gate has not taken, or only parked for approval."""
    if not gateway.reached_venue(order.order_id):
        return None
    return GateDecision(
        order_id=order.order_id,
        verdict=Verdict.ACCEPT,
        reason_codes=(),
        limits_version=gateway.limits.limits_version,
    )


def send(gateway: Gateway, order: Order) -> GateDecision:
    """The gate's decision on `order`: its earlier acceptance when it already reached a
    venue (nothing is sent twice), else what the gate decides now."""
    return sent_before(gateway, order) or gateway.submit(order)


def reduce(
    gateway: Gateway,
    now: datetime,
    fraction: float,
    salt: str,
    *,
    instrument: str | None = None,
    strategy_id: str | None = None,
    verb: str = "reduced",
) -> ReduceResult:
    """Cut every position (or one instrument's, `venue:symbol`, or one strategy's) by
    `fraction` with reduce-only market orders: risk's reduce (half), a close or a flatten
    (all), a strategy retired by research's rebalance (all)."""
    orders = reduce_orders(
        gateway, now, fraction, salt, instrument=instrument, strategy_id=strategy_id
    )
    reports = [execution_report(gateway, o, send(gateway, o)) for o in orders]
    return ReduceResult(reduced=reports, verb=verb, instrument=instrument)


def close(
    gateway: Gateway,
    book: InstrumentBook,
    now: datetime,
    symbol: str,
    fraction: float,
    salt: str,
) -> ReduceResult | OrderError:
    """Close `fraction` of what the book holds in `symbol`'s instrument ("sell half our
    ETH"), or why not (a symbol the desk does not trade)."""
    found = book.resolve(symbol)
    if isinstance(found, NoInstrument):
        return OrderError(error=found.message)
    return reduce(gateway, now, fraction, salt, instrument=found.id, verb=f"closed {fraction:.0%}")


def flatten(gateway: Gateway, now: datetime, salt: str) -> ReduceResult:
    """Close every position."""
    return reduce(gateway, now, 1.0, salt, verb="flattened")


def cancel_open(
    gateway: Gateway, book: InstrumentBook, symbol: str | None = None
) -> CancelResult | OrderError:
    """Cancel the resting orders, only those in `symbol`'s instrument when one is named
    ("cancel the resting GOOG limit" leaves the BTC bids alone); nothing else changes."""
    venue_symbol: tuple[str, str] | None = None
    if symbol:
        found = book.resolve(symbol)
        if isinstance(found, NoInstrument):
            return OrderError(error=found.message)
        venue_symbol = (found.venue, found.symbol)
    canceled = []
    for order_id in gateway.open_orders():
        if venue_symbol is not None:
            order = gateway.order(order_id)
            if order is None or (order.venue_id, order.symbol) != venue_symbol:
                continue  # an order of another instrument (or one it cannot see) stays
        gateway.cancel(order_id)
        canceled.append(str(order_id))
    return CancelResult(canceled=canceled, symbol=symbol)


def halt(gateway: Gateway, actor: str, reason: str) -> HaltResult:
    """Throw the kill switch: the desk halts and its open orders are canceled; only a
    named human rearms it."""
    canceled = gateway.kill_switch(actor, reason)
    return HaltResult(canceled=[str(c) for c in canceled])
