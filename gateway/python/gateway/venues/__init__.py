"""Venue adapters: live exchanges behind the gateway. Only the gateway package places orders."""

from gateway.venues.ccxt_venue import (
    CcxtVenue,
    VenueBalance,
    VenueError,
    VenueFill,
    VenueOrderState,
)

__all__ = ["CcxtVenue", "VenueBalance", "VenueError", "VenueFill", "VenueOrderState"]
