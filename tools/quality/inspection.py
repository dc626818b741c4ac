"""Quality control for bars: split a raw frame into clean rows, quarantined rows with
their reasons, and findings. Nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from core.models.market import Interval, SessionCalendar
from core.models.quality import DataQualityEvent, QualityAction, QualityCheck, Severity
from core.store.bar_frame import BAR_COLUMNS, OHLCV
from tools.quality.config import QualityConfig
from tools.quality.gaps import missing_bars
from tools.quality.row_checks import row_failures
from tools.quality.series_checks import flat_runs, is_stale, return_outliers

_ROW_SEVERITY = Severity.ERROR


@dataclass(frozen=True)
class QualityOutcome:
    clean: pd.DataFrame
    """Rows fit to store: sorted, one per key."""
    quarantined: pd.DataFrame
    """Refused rows, with a `reasons` list column."""
    events: list[DataQualityEvent]


class _Findings:
    def __init__(self, venue: str, symbol: str, interval: str, observed_at: datetime) -> None:
        self._key = (venue, symbol, interval)
        self._observed_at = observed_at
        self.events: list[DataQualityEvent] = []

    def add(
        self,
        check: QualityCheck,
        severity: Severity,
        action: QualityAction,
        detail: str,
        row_ts: pd.Timestamp | None = None,
        row_count: int = 1,
    ) -> None:
        venue, symbol, interval = self._key
        self.events.append(
            DataQualityEvent(
                venue_id=venue,
                symbol=symbol,
                interval=interval,
                check=check,
                severity=severity,
                action=action,
                detail=detail[:2000],
                row_count=row_count,
                row_ts=None if row_ts is None or pd.isna(row_ts) else row_ts.to_pydatetime(),
                observed_at=self._observed_at,
            )
        )


def _describe(row: pd.Series) -> str:
    return ", ".join(f"{k}={row[k]!r}" for k in OHLCV)


def _quarantine_rows(
    group: pd.DataFrame, reasons: list[list[str]], mask: np.ndarray, bucket: list[pd.DataFrame]
) -> None:
    rows = group.loc[mask].copy()
    rows["reasons"] = [reasons[i] for i in np.flatnonzero(mask)]
    bucket.append(rows)


def _inspect_series(
    group: pd.DataFrame,
    interval: Interval,
    calendar: SessionCalendar,
    config: QualityConfig,
    as_of: datetime | None,
    found: _Findings,
    quarantine: list[pd.DataFrame],
) -> pd.DataFrame:
    group = group.reset_index(drop=True)
    reasons: list[list[str]] = [[] for _ in range(len(group))]
    for check, mask in row_failures(group).items():
        for i in np.flatnonzero(mask):
            reasons[i].append(str(check))
            found.add(
                check,
                _ROW_SEVERITY,
                QualityAction.QUARANTINED,
                f"row {i}: {_describe(group.iloc[i])}",
                group["ts"].iloc[i],
            )
    bad = np.array([bool(r) for r in reasons], dtype=bool)
    _quarantine_rows(group, reasons, bad, quarantine)
    good = group.loc[~bad].reset_index(drop=True)

    inversions = int((np.diff(pd.DatetimeIndex(good["ts"]).asi8) < 0).sum())
    if inversions:
        found.add(
            QualityCheck.NON_MONOTONIC,
            Severity.WARNING,
            QualityAction.REPAIRED,
            f"{inversions} timestamps out of order; series sorted",
            row_count=inversions,
        )
    good = good.sort_values("ts", kind="stable").reset_index(drop=True)

    dup_reasons: list[list[str]] = [[] for _ in range(len(good))]
    copies = good["ts"].duplicated(keep=False).to_numpy()
    for ts, same_ts in good.loc[copies].groupby("ts").groups.items():
        rows = good.loc[same_ts, OHLCV]
        identical = bool((rows.nunique(dropna=False) <= 1).all())
        if identical:
            for i in list(same_ts)[1:]:
                dup_reasons[i].append(str(QualityCheck.DUPLICATE))
            found.add(
                QualityCheck.DUPLICATE,
                Severity.WARNING,
                QualityAction.QUARANTINED,
                f"{len(same_ts)} identical copies; kept the first",
                pd.Timestamp(str(ts)),
                len(same_ts) - 1,
            )
        else:
            for i in same_ts:
                dup_reasons[i].append(str(QualityCheck.CONFLICTING_DUPLICATE))
            found.add(
                QualityCheck.CONFLICTING_DUPLICATE,
                Severity.ERROR,
                QualityAction.QUARANTINED,
                f"{len(same_ts)} copies disagree; all refused",
                pd.Timestamp(str(ts)),
                len(same_ts),
            )
    dup = np.array([bool(r) for r in dup_reasons], dtype=bool)
    _quarantine_rows(good, dup_reasons, dup, quarantine)
    good = good.loc[~dup].reset_index(drop=True)

    # Statistics flag, rules refuse: a jump that reverts can be a bad print or a real
    # crash-and-rebound (Bitstamp BTC/USD, 2013-12-18), so these rows are kept and flagged.
    outlier, spike = return_outliers(good["close"].to_numpy(), config)
    for i in np.flatnonzero(spike):
        found.add(
            QualityCheck.SPIKE,
            Severity.WARNING,
            QualityAction.FLAGGED,
            f"close {good['close'].iloc[i]!r} jumps and reverts next bar",
            good["ts"].iloc[i],
        )
    for i in np.flatnonzero(outlier):
        prev, cur = good["close"].iloc[i - 1], good["close"].iloc[i]
        found.add(
            QualityCheck.RETURN_OUTLIER,
            Severity.WARNING,
            QualityAction.FLAGGED,
            f"close {prev!r} -> {cur!r} ({np.log(cur / prev):+.3f} log return)",
            good["ts"].iloc[i],
        )

    for start, length in flat_runs(good, config.flat_line_bars):
        found.add(
            QualityCheck.FLAT_LINE,
            Severity.WARNING,
            QualityAction.FLAGGED,
            f"price {good['close'].iloc[start]!r} unchanged for {length} bars",
            good["ts"].iloc[start],
            length,
        )

    missing = missing_bars(good["ts"], interval, calendar)
    lone_holiday = calendar is not SessionCalendar.CONTINUOUS
    for i in np.flatnonzero(missing > 0):
        count = int(missing[i])
        severity = Severity.INFO if lone_holiday and count == 1 else Severity.WARNING
        found.add(
            QualityCheck.GAP,
            severity,
            QualityAction.FLAGGED,
            f"{count} missing bar(s) after {good['ts'].iloc[i].isoformat()}",
            good["ts"].iloc[i + 1],
            count,
        )

    if as_of is not None and len(good) and is_stale(good["ts"].iloc[-1], interval, as_of, config):
        found.add(
            QualityCheck.STALE_SERIES,
            Severity.WARNING,
            QualityAction.FLAGGED,
            f"last bar {good['ts'].iloc[-1].isoformat()} is stale at {as_of.isoformat()}",
            good["ts"].iloc[-1],
        )
    return good


def inspect_bars(
    raw: pd.DataFrame,
    calendar: SessionCalendar,
    config: QualityConfig | None = None,
    as_of: datetime | None = None,
    observed_at: datetime | None = None,
) -> QualityOutcome:
    """Run every check on every series of a raw bar frame (see tools.ingest.loaders)."""
    config = config or QualityConfig()
    observed_at = observed_at or datetime.now(UTC)
    clean: list[pd.DataFrame] = []
    quarantine: list[pd.DataFrame] = []
    events: list[DataQualityEvent] = []
    for (venue, symbol, interval), group in raw.groupby(
        ["venue", "symbol", "interval"], sort=False
    ):
        found = _Findings(str(venue), str(symbol), str(interval), observed_at)
        clean.append(
            _inspect_series(
                group, Interval(str(interval)), calendar, config, as_of, found, quarantine
            )
        )
        events.extend(found.events)
    clean_frame = (
        pd.concat(clean, ignore_index=True) if clean else raw.loc[:0, BAR_COLUMNS].iloc[0:0]
    )
    quarantined = (
        pd.concat(quarantine, ignore_index=True)
        if quarantine
        else raw.loc[:0, BAR_COLUMNS].iloc[0:0].assign(reasons=[])
    )
    return QualityOutcome(clean_frame.loc[:, BAR_COLUMNS], quarantined, events)
