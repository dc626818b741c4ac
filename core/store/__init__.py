"""The desk's ClickHouse store: embedded chdb by default, a server by DSN, the same SQL."""

from core.store.audit import AuditLog
from core.store.bar_frame import BAR_COLUMNS, BarFrameError, conform_bar_frame
from core.store.connection import TABLES, Store, StoreConfigError
from core.store.embedded_lock import StoreLockedError
from core.store.market_data import BarWriteResult, MarketDataStore, SeriesSummary
from core.store.quality_log import QualityLog
from core.store.trade_log import TradeLog

__all__ = [
    "BAR_COLUMNS",
    "TABLES",
    "AuditLog",
    "BarFrameError",
    "BarWriteResult",
    "MarketDataStore",
    "QualityLog",
    "SeriesSummary",
    "Store",
    "StoreConfigError",
    "StoreLockedError",
    "TradeLog",
    "conform_bar_frame",
]
