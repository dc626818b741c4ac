"""Building the desk's orders. Every id is derived (uuid5) from where the order was asked
for, so a re-run after an interrupt or a crash builds the very same order and the gate
sends it once; recorded eval cassettes and the crash tests depend on these ids, so the keys
must not change. Lots, the account and the instruments come from the gate's own limits
(`gateway.limits`): the order is built to what the gate enforces."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

from core.models.trading import Order, OrderType, Side, TimeInForce
from gateway import GateLimits, Gateway
from tools.instruments import InstrumentBook, NoInstrument
from tools.orders.report import OrderError

PriceOf = Callable[[str, str], float | None]
"""The reference price of (venue, symbol), None when the desk has no data for it."""


class Turn(BaseModel):
    """Where in a conversation an order is asked for: the thread and its message count."""

    model_config = ConfigDict(frozen=True)

    thread: str
    turn: int

    @property
    def salt(self) -> str:
        return f"{self.thread}|{self.turn}"


def _lot(limits: GateLimits, instrument: str) -> float:
    return next(i.lot for i in limits.instruments if i.id == instrument)


def _whole_lots(amount: float, lot: float) -> float:
    """`amount` rounded down to whole lots. The 1e-9 keeps float noise (1/2/1e-5 =
    49999.99...) from losing a lot."""
    return round(int(amount / lot + 1e-9) * lot, 10)


def _client_id(order_id: UUID) -> str:
    return f"qd-{order_id.hex[:24]}"


def order_for(
    gateway: Gateway,
    book: InstrumentBook,
    now: datetime,
    turn: Turn,
    *,
    side: str,
    quantity: float,
    symbol: str,
    limit_price: float | None,
    strategy_id: str,
) -> Order | OrderError:
    """The order (a limit order with `limit_price`, else a market one), or why there is
    none. Its id is derived from the turn, so the same turn sends the very same order."""
    found = book.resolve(symbol)
    if isinstance(found, NoInstrument):
        return OrderError(error=found.message)
    venue, market = found.venue, found.symbol
    # The trailing "|" held a salt no caller set; it stays so the ids do not change.
    key = f"{turn.thread}|{turn.turn}|{side}|{quantity!r}|{venue}:{market}|{limit_price!r}|"
    order_id = uuid5(NAMESPACE_URL, key)
    return Order(
        order_id=order_id,
        client_order_id=_client_id(order_id),
        strategy_id=strategy_id,
        account_id=gateway.limits.account_id,
        venue_id=venue,
        symbol=market,
        side=Side(side),
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        quantity=quantity,
        limit_price=limit_price,
        time_in_force=TimeInForce.GTC if limit_price is not None else TimeInForce.IOC,
        created_at=now,
    )


def reduce_orders(
    gateway: Gateway,
    now: datetime,
    fraction: float,
    salt: str,
    *,
    instrument: str | None = None,
    strategy_id: str | None = None,
) -> list[Order]:
    """Reduce-only market orders that cut each matching position by `fraction` (whole lots).
    Ids derive from `salt`, so sending the same instruction twice sends each order once."""
    orders = []
    for position in gateway.positions():
        held = f"{position.venue_id}:{position.symbol}"
        if (instrument and held != instrument) or (
            strategy_id and position.strategy_id != strategy_id
        ):
            continue
        quantity = _whole_lots(abs(position.quantity) * fraction, _lot(gateway.limits, held))
        if quantity <= 0:
            continue
        order_id = uuid5(NAMESPACE_URL, f"reduce|{salt}|{held}|{position.strategy_id}")
        orders.append(
            Order(
                order_id=order_id, client_order_id=_client_id(order_id),
                strategy_id=position.strategy_id, account_id=gateway.limits.account_id,
                venue_id=position.venue_id, symbol=position.symbol,
                side=Side.SELL if position.quantity > 0 else Side.BUY,
                order_type=OrderType.MARKET, quantity=quantity, time_in_force=TimeInForce.IOC,
                reduce_only=True, created_at=now,
            )
        )  # fmt: skip
    return orders


def sized_quantity(
    gateway: Gateway, book: InstrumentBook, price_of: PriceOf, symbol: str, fraction: float
) -> float | OrderError:
    """`fraction` of the account's equity in `symbol`, at its reference price, in whole
    lots (down): "put 10% into ETH". Why not, when it cannot be sized."""
    found = book.resolve(symbol)
    if isinstance(found, NoInstrument):
        return OrderError(error=found.message)
    price = price_of(found.venue, found.symbol)
    if not price:
        return OrderError(error=f"no price for {found.id}: load its data before sizing by share")
    lot = _lot(gateway.limits, found.id)
    quantity = _whole_lots(fraction * gateway.equity / price, lot)
    if quantity <= 0:
        return OrderError(
            error=f"{fraction:.0%} of equity buys less than one lot ({lot:g}) of {found.id}"
        )
    return quantity


def edited_order(order: Order, args: dict[str, Any]) -> Order:
    """`order` as a human edited it on the approval card (its quantity, its limit price):
    a new order, validated as any other, its id derived from the old one and the edit."""
    order_id = uuid5(NAMESPACE_URL, f"{order.order_id}|edit|{args}")
    return Order.model_validate(
        order.model_dump()
        | {
            "order_id": order_id,
            "client_order_id": _client_id(order_id),
            "quantity": float(args.get("quantity", order.quantity)),
            "limit_price": args.get("limit_price", order.limit_price),
        }
    )
