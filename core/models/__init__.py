"""Domain models (pydantic v2): every boundary of the desk speaks these."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.models.audit import AuditEvent
    from core.models.base import DomainModel, UtcDatetime
    from core.models.enums import AssetClass, Interval, SessionCalendar
    from core.models.market import (
        AggressorSide,
        Bar,
        Instrument,
        Trade,
        Venue,
        VenueKind,
    )
    from core.models.quality import (
        DataQualityEvent,
        DataQualityReport,
        QualityAction,
        QualityCheck,
        Severity,
    )
    from core.models.strategy import StrategySpec, StrategyStage
    from core.models.trading import (
        Account,
        Fill,
        Liquidity,
        Order,
        OrderStatus,
        OrderType,
        Position,
        Side,
        TimeInForce,
        TradingState,
    )

__all__ = [
    "Account",
    "AggressorSide",
    "AssetClass",
    "AuditEvent",
    "Bar",
    "DataQualityEvent",
    "DataQualityReport",
    "DomainModel",
    "Fill",
    "Instrument",
    "Interval",
    "Liquidity",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "QualityAction",
    "QualityCheck",
    "SessionCalendar",
    "Severity",
    "Side",
    "StrategySpec",
    "StrategyStage",
    "TimeInForce",
    "Trade",
    "TradingState",
    "UtcDatetime",
    "Venue",
    "VenueKind",
]

_HOMES: dict[str, str] = {
    "Account": "core.models.trading",
    "AggressorSide": "core.models.market",
    "AssetClass": "core.models.enums",
    "AuditEvent": "core.models.audit",
    "Bar": "core.models.market",
    "DataQualityEvent": "core.models.quality",
    "DataQualityReport": "core.models.quality",
    "DomainModel": "core.models.base",
    "Fill": "core.models.trading",
    "Instrument": "core.models.market",
    "Interval": "core.models.enums",
    "Liquidity": "core.models.trading",
    "Order": "core.models.trading",
    "OrderStatus": "core.models.trading",
    "OrderType": "core.models.trading",
    "Position": "core.models.trading",
    "QualityAction": "core.models.quality",
    "QualityCheck": "core.models.quality",
    "SessionCalendar": "core.models.enums",
    "Severity": "core.models.quality",
    "Side": "core.models.trading",
    "StrategySpec": "core.models.strategy",
    "StrategyStage": "core.models.strategy",
    "TimeInForce": "core.models.trading",
    "Trade": "core.models.market",
    "TradingState": "core.models.trading",
    "UtcDatetime": "core.models.base",
    "Venue": "core.models.market",
    "VenueKind": "core.models.market",
}


def __getattr__(name: str) -> Any:
    # Names load with their module on first use: importing one model must not build them
    # all (the CLI's `--help` needs none).
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
