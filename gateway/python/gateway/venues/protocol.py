"""What `LiveExecutor` needs of a venue: ccxt's exchanges and Alpaca both provide it."""

from __future__ import annotations

from typing import Protocol

from core.models.trading import Order
from gateway.venues.ccxt_venue import VenueBalance, VenueOrderState


class Venue(Protocol):
    exchange_id: str

    def place(self, order: Order) -> str: ...

    def cancel(self, venue_order_id: str, symbol: str) -> None: ...

    def order_state(self, venue_order_id: str, symbol: str) -> VenueOrderState: ...

    def open_orders(self) -> list[VenueOrderState]: ...

    def balances(self) -> dict[str, VenueBalance]: ...
