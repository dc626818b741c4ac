"""Market reference data and market data: venues, instruments, bars, trades."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from core.models.base import DomainModel, Identifier, NonNegativeFloat, PositiveFloat, UtcDatetime
from core.models.enums import AssetClass, Interval, SessionCalendar

__all__ = [
    "AggressorSide",
    "AssetClass",
    "Bar",
    "Instrument",
    "Interval",
    "SessionCalendar",
    "Trade",
    "Venue",
    "VenueKind",
]


class VenueKind(StrEnum):
    EXCHANGE = "exchange"
    PAPER = "paper"
    DATA_VENDOR = "data_vendor"


class Venue(DomainModel):
    """A place where instruments trade or from which their prices come."""

    venue_id: Identifier
    name: str = Field(min_length=1)
    kind: VenueKind = VenueKind.EXCHANGE
    asset_class: AssetClass
    calendar: SessionCalendar


class Instrument(DomainModel):
    """A tradable instrument on one venue, with the grid and size bounds the gate enforces."""

    venue_id: Identifier
    symbol: Identifier
    base: Identifier
    quote: Identifier
    asset_class: AssetClass
    tick_size: PositiveFloat
    lot_size: PositiveFloat
    min_quantity: PositiveFloat
    max_quantity: PositiveFloat
    min_notional: NonNegativeFloat = 0.0
    max_notional: PositiveFloat = 1e12
    tradable: bool = True

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> Self:
        if self.min_quantity > self.max_quantity:
            raise ValueError("min_quantity must not exceed max_quantity")
        if self.min_notional > self.max_notional:
            raise ValueError("min_notional must not exceed max_notional")
        if self.min_quantity < self.lot_size:
            raise ValueError("min_quantity must be at least one lot")
        return self

    @property
    def instrument_id(self) -> str:
        """`SYMBOL@venue`, unique across the desk."""
        return f"{self.symbol}@{self.venue_id}"


class Bar(DomainModel):
    """One OHLCV bar; `ts` is the bar's open time."""

    venue_id: Identifier
    symbol: Identifier
    interval: Interval
    ts: UtcDatetime
    open: PositiveFloat
    high: PositiveFloat
    low: PositiveFloat
    close: PositiveFloat
    volume: NonNegativeFloat
    derived: bool = False
    """True for bars synthesised from real bars (e.g. minutes bridged from days)."""

    @model_validator(mode="after")
    def _ohlc_is_consistent(self) -> Self:
        if self.high < max(self.open, self.close, self.low):
            raise ValueError("high is below open, close or low")
        if self.low > min(self.open, self.close):
            raise ValueError("low is above open or close")
        return self


class AggressorSide(StrEnum):
    BUY = "buy"
    SELL = "sell"
    UNKNOWN = "unknown"


class Trade(DomainModel):
    """One print on a venue's tape."""

    venue_id: Identifier
    symbol: Identifier
    ts: UtcDatetime
    trade_id: str = Field(min_length=1, max_length=128)
    price: PositiveFloat
    quantity: PositiveFloat
    aggressor: AggressorSide = AggressorSide.UNKNOWN
