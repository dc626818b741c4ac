"""Domain models (pydantic v2): every boundary of the desk speaks these."""

from core.models.audit import AuditEvent
from core.models.base import DomainModel, UtcDatetime
from core.models.market import (
    AggressorSide,
    AssetClass,
    Bar,
    Instrument,
    Interval,
    SessionCalendar,
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
