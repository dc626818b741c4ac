"""Where quality control writes: findings to data_quality_events, refused rows to
bars_quarantine. Both writes are idempotent: ids derive from content."""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

import numpy as np
import pandas as pd

from core.models.quality import DataQualityEvent
from core.store.bar_frame import OHLCV
from core.store.connection import Store

QUARANTINE_COLUMNS = ["venue", "symbol", "interval", "ts", *OHLCV, "source", "reasons"]


def _row_id(row: pd.Series) -> UUID:
    ts = row["ts"]
    key = [
        str(row["venue"]),
        str(row["symbol"]),
        str(row["interval"]),
        "" if pd.isna(ts) else pd.Timestamp(ts).isoformat(),
        *(repr(float(row[c])) for c in OHLCV),
        str(row["source"]),
        *sorted(str(r) for r in row["reasons"]),
    ]
    return UUID(bytes=hashlib.blake2b(json.dumps(key).encode(), digest_size=16).digest())


class QualityLog:
    """Data-quality events and quarantined bars."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _existing_ids(self, table: str, column: str, ids: list[UUID]) -> set[UUID]:
        if not ids:
            return set()
        rows = self._store.client.query(
            f"SELECT {column} FROM {table} WHERE {column} IN {{ids:Array(UUID)}}",
            parameters={"ids": [str(i) for i in ids]},
        ).result_rows
        return {UUID(str(r[0])) for r in rows}

    def record_events(self, load_id: str, events: list[DataQualityEvent]) -> int:
        """Append events not recorded before; returns how many were new."""
        by_id = {e.event_id: e for e in events}
        with self._store.write_lock:
            seen = self._existing_ids("data_quality_events", "event_id", list(by_id))
            new = [e for i, e in by_id.items() if i not in seen]
            if new:
                self._store.client.insert(
                    "data_quality_events",
                    [
                        [
                            e.event_id,
                            load_id,
                            e.observed_at,
                            e.venue_id,
                            e.symbol,
                            e.interval,
                            str(e.check),
                            str(e.severity),
                            e.row_ts,
                            e.row_count,
                            str(e.action),
                            e.detail,
                        ]
                        for e in new
                    ],
                    column_names=[
                        "event_id",
                        "load_id",
                        "ts",
                        "venue",
                        "symbol",
                        "interval",
                        "check_name",
                        "severity",
                        "row_ts",
                        "row_count",
                        "action",
                        "detail",
                    ],
                )
        return len(new)

    def quarantine(self, load_id: str, rows: pd.DataFrame) -> int:
        """Keep refused rows with their reasons (a list per row); returns how many were new."""
        if rows.empty:
            return 0
        frame = rows.loc[:, QUARANTINE_COLUMNS].reset_index(drop=True)
        ids = [_row_id(row) for _, row in frame.iterrows()]
        frame.insert(0, "row_id", ids)
        frame = frame.drop_duplicates("row_id")
        with self._store.write_lock:
            seen = self._existing_ids("bars_quarantine", "row_id", list(frame["row_id"]))
            frame = frame[~frame["row_id"].isin(seen)]
            if frame.empty:
                return 0
            now = self._store.now()
            ts = pd.to_datetime(frame["ts"], utc=True)
            data = [
                [
                    row_id,
                    load_id,
                    v,
                    s,
                    i,
                    None if pd.isna(t) else t.to_pydatetime(),
                    *(float(x) for x in ohlcv),
                    src,
                    list(reasons),
                    now,
                ]
                for row_id, v, s, i, t, *ohlcv, src, reasons in zip(
                    frame["row_id"],
                    frame["venue"],
                    frame["symbol"],
                    frame["interval"],
                    ts,
                    *(frame[c].to_numpy(dtype=np.float64) for c in OHLCV),
                    frame["source"],
                    frame["reasons"],
                    strict=True,
                )
            ]
            self._store.client.insert(
                "bars_quarantine",
                data,
                column_names=[
                    "row_id",
                    "load_id",
                    "venue",
                    "symbol",
                    "interval",
                    "ts",
                    *OHLCV,
                    "source",
                    "reasons",
                    "quarantined_at",
                ],
            )
        return len(data)

    def events(self, venue: str | None = None, symbol: str | None = None) -> pd.DataFrame:
        """Recorded findings, newest first, optionally for one venue and/or symbol."""
        clauses, params = ["1"], {}
        if venue is not None:
            clauses.append("venue = {venue:String}")
            params["venue"] = venue
        if symbol is not None:
            clauses.append("symbol = {symbol:String}")
            params["symbol"] = symbol
        events: pd.DataFrame = self._store.client.query_arrow(
            "SELECT venue, symbol, interval, check_name, toString(severity) AS severity, action, "
            "row_ts, row_count, detail, load_id FROM data_quality_events "
            f"WHERE {' AND '.join(clauses)} ORDER BY ts DESC, venue, symbol, row_ts",
            parameters=params,
        ).to_pandas()
        return events

    def quarantined(self) -> pd.DataFrame:
        """Every quarantined row with its reasons."""
        frame: pd.DataFrame = self._store.client.query_arrow(
            "SELECT venue, symbol, interval, ts, open, high, low, close, volume, source, reasons, "
            "load_id FROM bars_quarantine ORDER BY venue, symbol, interval, ts"
        ).to_pandas()
        frame["reasons"] = frame["reasons"].map(list)
        return frame
