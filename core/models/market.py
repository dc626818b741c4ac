"""Market reference data and market data: venues, instruments, bars, trades."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from core.models.base import DomainModel, Identifier, NonNegativeFloat, PositiveFloat, UtcDatetime


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    EQUITY = "equity"
    FX = "fx"


class SessionCalendar(StrEnum):
    """When a market trades: decides which missing bars count as gaps."""

    CONTINUOUS = "continuous"
    """24x7 (crypto)."""
    WEEKDAYS = "weekdays"
    """Monday to Friday (cash equities at daily resolution; holidays show as one-bar gaps)."""
    FX_24X5 = "fx_24x5"
    """Sunday 21:00 UTC to Friday 21:00 UTC."""


class Interval(StrEnum):
    """Bar intervals the store accepts."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"
    MO1 = "1M"

    @property
    def duration(self) -> timedelta:
        """Nominal length (a month counts as 30 days)."""
        return _DURATIONS[self]


_DURATIONS: dict[Interval, timedelta] = {
    Interval.M1: timedelta(minutes=1),
    Interval.M5: timedelta(minutes=5),
    Interval.M15: timedelta(minutes=15),
    Interval.H1: timedelta(hours=1),
    Interval.H4: timedelta(hours=4),
    Interval.D1: timedelta(days=1),
    Interval.W1: timedelta(weeks=1),
    Interval.MO1: timedelta(days=30),
}


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
