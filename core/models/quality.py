"""Data-quality findings, as the Data agent's checks report them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from core.models.base import DomainModel, Identifier, UtcDatetime


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class QualityCheck(StrEnum):
    """Stable names of the checks; events and reason codes use them."""

    MISSING_FIELD = "missing_field"
    INVALID_TIMESTAMP = "invalid_timestamp"
    NON_POSITIVE_PRICE = "non_positive_price"
    NAN_PRICE = "nan_price"
    INVALID_VOLUME = "invalid_volume"
    OHLC_INCONSISTENT = "ohlc_inconsistent"
    DUPLICATE = "duplicate"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    CONFLICTS_WITH_STORED = "conflicts_with_stored"
    NON_MONOTONIC = "non_monotonic"
    GAP = "gap"
    RETURN_OUTLIER = "return_outlier"
    SPIKE = "spike"
    FLAT_LINE = "flat_line"
    STALE_SERIES = "stale_series"


class QualityAction(StrEnum):
    QUARANTINED = "quarantined"
    """The rows went to bars_quarantine, not to bars."""
    REPAIRED = "repaired"
    """The data was fixed without loss (e.g. sorted)."""
    FLAGGED = "flagged"
    """Stored as they are; the finding is for a human or an agent to weigh."""


_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "quantdesk:data_quality_event")


class DataQualityEvent(DomainModel):
    """One finding about one series; `event_id` is derived from its content so that
    re-running a load records nothing twice."""

    venue_id: Identifier
    symbol: Identifier
    interval: str = Field(min_length=1, max_length=8)
    check: QualityCheck
    severity: Severity
    action: QualityAction
    detail: str = Field(max_length=2000)
    row_ts: UtcDatetime | None = None
    row_count: int = Field(default=1, ge=0)
    observed_at: UtcDatetime

    @property
    def event_id(self) -> UUID:
        row_ts = self.row_ts.isoformat() if self.row_ts else "-"
        key = "|".join((self.venue_id, self.symbol, self.interval, self.check, row_ts, self.detail))
        return uuid5(_EVENT_NAMESPACE, key)


class DataQualityReport(DomainModel):
    """What one load found and did, per series."""

    load_id: str
    source: str
    series: tuple[tuple[str, str, str], ...]
    rows_in: int
    rows_stored: int
    rows_already_stored: int
    rows_quarantined: int
    events: tuple[DataQualityEvent, ...]
    started_at: datetime
    finished_at: datetime

    def count(self, check: QualityCheck) -> int:
        """How many events of one check this load raised."""
        return sum(1 for e in self.events if e.check is check)
