"""The desk's plain enums and literals, apart from the pydantic models that use them: the
CLI's options are typed with them, and `--help` must not pay for building the models."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal

RouterName = Literal["rules", "llm"]


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
