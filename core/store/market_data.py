"""Typed read/write API for bars: idempotent writes, range reads as pandas (via Arrow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from core.store.bar_frame import (
    BAR_COLUMNS,
    OHLCV,
    bar_frame_to_arrow,
    conform_bar_frame,
    empty_bar_frame,
)
from core.store.connection import Store

_SERIES_FILTER = (
    "venue = {venue:String} AND symbol = {symbol:String} AND interval = {interval:String}"
)


@dataclass(frozen=True)
class BarWriteResult:
    inserted: int
    already_stored: int
    conflicts: pd.DataFrame
    """Rows whose key is stored with different values; the stored row wins, these are
    returned for quarantine."""


@dataclass(frozen=True)
class SeriesSummary:
    venue: str
    symbol: str
    interval: str
    bars: int
    first: datetime
    last: datetime
    derived: bool
    sources: tuple[str, ...]


def _utc(value: datetime | pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class MarketDataStore:
    """Bars in the store, keyed by (venue, symbol, interval, ts)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _stored_ohlcv(
        self, venue: str, symbol: str, interval: str, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        return self._store.bulk.query_frame(
            f"SELECT ts, {', '.join(OHLCV)} FROM bars WHERE {_SERIES_FILTER} "
            "AND ts BETWEEN {start:DateTime64(3, 'UTC')} AND {end:DateTime64(3, 'UTC')}",
            parameters={
                "venue": venue,
                "symbol": symbol,
                "interval": interval,
                "start": start,
                "end": end,
            },
        )

    def write_bars(self, bars: pd.DataFrame) -> BarWriteResult:
        """Store bars whose key is new; a second write of the same bars stores nothing."""
        frame = conform_bar_frame(bars)
        if frame.duplicated(["venue", "symbol", "interval", "ts"]).any():
            raise ValueError("write_bars got duplicate keys; run quality control first")
        fresh: list[pd.DataFrame] = []
        conflicts: list[pd.DataFrame] = []
        already = 0
        with self._store.write_lock:
            for (venue, symbol, interval), group in frame.groupby(
                ["venue", "symbol", "interval"], sort=False
            ):
                stored = self._stored_ohlcv(
                    str(venue), str(symbol), str(interval), group["ts"].min(), group["ts"].max()
                )
                if stored.empty:
                    fresh.append(group)
                    continue
                merged = group.merge(
                    stored, on="ts", how="left", suffixes=("", "_stored"), indicator=True
                )
                is_new = (merged["_merge"] == "left_only").to_numpy()
                same = np.ones(len(merged), dtype=bool)
                for column in OHLCV:
                    same &= np.isclose(
                        merged[column],
                        merged[f"{column}_stored"],
                        rtol=1e-12,
                        atol=0.0,
                        equal_nan=True,
                    )
                fresh.append(merged.loc[is_new, BAR_COLUMNS])
                conflicts.append(merged.loc[~is_new & ~same, BAR_COLUMNS])
                already += int((~is_new & same).sum())
            new_rows = pd.concat(fresh, ignore_index=True) if fresh else empty_bar_frame()
            if len(new_rows):
                self._store.bulk.insert_arrow("bars", bar_frame_to_arrow(new_rows))
        conflict_rows = pd.concat(conflicts, ignore_index=True) if conflicts else empty_bar_frame()
        return BarWriteResult(len(new_rows), already, conflict_rows)

    def read_bars(
        self,
        venue: str,
        symbol: str,
        interval: str,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> pd.DataFrame:
        """Bars of one series in [start, end), oldest first, `ts` as UTC datetimes."""
        clauses = [_SERIES_FILTER]
        params: dict[str, object] = {"venue": venue, "symbol": symbol, "interval": interval}
        if start is not None:
            clauses.append("ts >= {start:DateTime64(3, 'UTC')}")
            params["start"] = _utc(start)
        if end is not None:
            clauses.append("ts < {end:DateTime64(3, 'UTC')}")
            params["end"] = _utc(end)
        return self._store.bulk.query_frame(
            f"SELECT ts, {', '.join(OHLCV)}, derived FROM bars WHERE {' AND '.join(clauses)} "
            "ORDER BY ts",
            params,
        )

    def series(self) -> list[SeriesSummary]:
        """Every stored series with its span."""
        rows = self._store.client.query(
            "SELECT venue, symbol, interval, count(), min(ts), max(ts), max(derived), "
            "groupUniqArray(source) FROM bars GROUP BY venue, symbol, interval "
            "ORDER BY venue, symbol, interval"
        ).result_rows
        return [
            SeriesSummary(
                str(v),
                str(s),
                str(i),
                int(n),
                _utc(lo).to_pydatetime(),
                _utc(hi).to_pydatetime(),
                bool(d),
                tuple(sorted(src)),
            )
            for v, s, i, n, lo, hi, d, src in rows
        ]
