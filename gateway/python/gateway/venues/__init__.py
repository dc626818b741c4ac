"""Venue adapters: live exchanges behind the gateway. Only the gateway package places orders.
Alpaca's (`gateway.venues.alpaca_venue`) loads alpaca-py when imported, so it is not here."""

from gateway.venues.ccxt_venue import (
    CcxtVenue,
    VenueBalance,
    VenueError,
    VenueFill,
    VenueOrderState,
)

__all__ = ["CcxtVenue", "VenueBalance", "VenueError", "VenueFill", "VenueOrderState"]
