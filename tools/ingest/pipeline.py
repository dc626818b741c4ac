"""One ingestion path for every source: quality control, quarantine, idempotent store,
findings and an audit record."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pandas as pd

from core.models.audit import AuditEvent
from core.models.market import SessionCalendar
from core.models.quality import (
    DataQualityEvent,
    DataQualityReport,
    QualityAction,
    QualityCheck,
    Severity,
)
from core.store import AuditLog, MarketDataStore, QualityLog, Store
from tools.quality import QualityConfig, inspect_bars


def _conflict_events(conflicts: pd.DataFrame, observed_at: datetime) -> list[DataQualityEvent]:
    return [
        DataQualityEvent(
            venue_id=str(row["venue"]),
            symbol=str(row["symbol"]),
            interval=str(row["interval"]),
            check=QualityCheck.CONFLICTS_WITH_STORED,
            severity=Severity.ERROR,
            action=QualityAction.QUARANTINED,
            row_ts=pd.Timestamp(row["ts"]).to_pydatetime(),
            detail=f"stored bar differs; incoming close={row['close']!r} refused",
            observed_at=observed_at,
        )
        for row in conflicts.to_dict("records")
    ]


def ingest_bars(
    store: Store,
    raw: pd.DataFrame,
    *,
    source: str,
    calendar: SessionCalendar,
    config: QualityConfig | None = None,
    as_of: datetime | None = None,
    actor: str = "data",
) -> DataQualityReport:
    """Check, quarantine and store raw bars; loading the same bars again stores nothing."""
    load_id = uuid4().hex
    started = datetime.now(UTC)
    outcome = inspect_bars(raw, calendar, config, as_of=as_of, observed_at=started)
    written = MarketDataStore(store).write_bars(outcome.clean)
    conflicts = written.conflicts.copy()
    conflicts["reasons"] = pd.Series(
        [[str(QualityCheck.CONFLICTS_WITH_STORED)]] * len(conflicts),
        index=conflicts.index,
        dtype=object,
    )
    events = [*outcome.events, *_conflict_events(written.conflicts, started)]
    quality = QualityLog(store)
    quarantined = pd.concat([outcome.quarantined, conflicts], ignore_index=True)
    quality.quarantine(load_id, quarantined)
    quality.record_events(load_id, events)
    series = tuple(
        sorted(
            {
                (str(v), str(s), str(i))
                for v, s, i in raw[["venue", "symbol", "interval"]]
                .drop_duplicates()
                .itertuples(index=False)
            }
        )
    )
    report = DataQualityReport(
        load_id=load_id,
        source=source,
        series=series,
        rows_in=len(raw),
        rows_stored=written.inserted,
        rows_already_stored=written.already_stored,
        rows_quarantined=len(quarantined),
        events=tuple(events),
        started_at=started,
        finished_at=datetime.now(UTC),
    )
    AuditLog(store).append(
        [
            AuditEvent(
                actor=actor,
                kind="data.load",
                correlation_id=load_id,
                payload=report.model_dump(mode="json", exclude={"events"})
                | {"events": len(events)},
            )
        ]
    )
    return report
