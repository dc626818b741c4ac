"""Typed read/write API for bars: idempotent writes, range reads as pandas (via Arrow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from core.models.market import Interval
from core.store.as_of import AsOf, frame_cells, visible_until
from core.store.bar_frame import (
    BAR_COLUMNS,
    OHLCV,
    bar_frame_to_arrow,
    conform_bar_frame,
    empty_bar_frame,
)
from core.store.connection import Store

# Each interval's length in seconds, as SQL: when a bar opened at `ts` closes.
_LENGTHS = ", ".join(f"interval = '{i.value}', {int(i.duration.total_seconds())}" for i in Interval)
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

    @property
    def store(self) -> Store:
        return self._store

    def bars_version(self) -> tuple[int, ...]:
        """Changes whenever the bars table does, whoever writes it: each insert makes a part
        with a higher block number, a mutation raises a part's data version, a dropped part
        changes the count. A merge changes none of what it reads."""
        row = self._store.client.query(
            "SELECT max(max_block_number), max(data_version), sum(rows), count() "
            "FROM system.parts WHERE database = currentDatabase() AND table = 'bars' AND active"
        ).result_rows[0]
        return tuple(int(v or 0) for v in row)

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
        """Bars of one series in [start, end), oldest first, `ts` as UTC datetimes. In a
        replay, only the bars closed by the simulated now, and a read asking past it is
        refused (LookAheadError)."""
        as_of = self._store.as_of
        if as_of is not None:
            return self._read_as_of(as_of, venue, symbol, interval, start, end)
        return self._query_bars(venue, symbol, interval, start, end, None)

    def _query_bars(
        self,
        venue: str,
        symbol: str,
        interval: str,
        start: datetime | str | None,
        end: datetime | str | None,
        last: datetime | None,
    ) -> pd.DataFrame:
        clauses = [_SERIES_FILTER]
        params: dict[str, object] = {"venue": venue, "symbol": symbol, "interval": interval}
        if start is not None:
            clauses.append("ts >= {start:DateTime64(3, 'UTC')}")
            params["start"] = _utc(start)
        if end is not None:
            clauses.append("ts < {end:DateTime64(3, 'UTC')}")
            params["end"] = _utc(end)
        if last is not None:
            clauses.append("ts <= {last:DateTime64(3, 'UTC')}")
            params["last"] = _utc(last)
        return self._store.bulk.query_frame(
            f"SELECT ts, {', '.join(OHLCV)}, derived FROM bars WHERE {' AND '.join(clauses)} "
            "ORDER BY ts",
            params,
        )

    def _read_as_of(
        self,
        as_of: AsOf,
        venue: str,
        symbol: str,
        interval: str,
        start: datetime | str | None,
        end: datetime | str | None,
    ) -> pd.DataFrame:
        what = f"bars {venue}:{symbol} {interval}"
        if end is not None:
            as_of.refuse_past_now(what, _utc(end).to_pydatetime())
        last = visible_until(as_of.now, interval)
        held = as_of.frames.get((venue, symbol, interval))
        if held is None:
            return self._query_bars(venue, symbol, interval, start, end, last)
        ts = as_of.stamps[(venue, symbol, interval)]

        def at(value: datetime | str, side: Literal["left", "right"] = "left") -> int:
            return int(np.searchsorted(ts, _utc(value).tz_convert(None).to_datetime64(), side))

        lo = 0 if start is None else at(start)
        hi = at(last, "right") if end is None else min(at(last, "right"), at(end))
        frame = held.iloc[lo : max(lo, hi)].reset_index(drop=True)
        as_of.observe(what, frame_cells(frame))
        return frame

    def hold_for_replay(self, as_of: AsOf, series: list[tuple[str, str, str]]) -> None:
        """Read each series once into `as_of`, so a replay's reads slice memory. (The whole
        history is read here on purpose: the probe does not look at this read.)"""
        probing, as_of.probe = as_of.probe, False
        try:
            for venue, symbol, interval in series:
                frame = self._query_bars(venue, symbol, interval, None, None, None)
                as_of.frames[(venue, symbol, interval)] = frame
                as_of.stamps[(venue, symbol, interval)] = frame["ts"].dt.tz_convert(None).to_numpy()
        finally:
            as_of.probe = probing

    def latest_close(
        self, venue: str, symbol: str, after: datetime
    ) -> tuple[datetime, float, str] | None:
        """The newest bar of any interval but a day's, among those opened at or after
        `after`: (when it closed, its close, its interval). How a position is marked between
        daily closes, to the stream's bars. In a replay, only bars closed by its now."""
        params: dict[str, object] = {"venue": venue, "symbol": symbol, "after": _utc(after)}
        closes_at = f"ts + toIntervalSecond(multiIf({_LENGTHS}, 0))"
        where = ""
        if self._store.as_of is not None:
            where = f" AND {closes_at} <= {{now:DateTime64(3, 'UTC')}}"
            params["now"] = _utc(self._store.as_of.now)
        rows = self._store.client.query(
            f"SELECT {closes_at} AS closed, close, interval FROM bars WHERE venue = "
            "{venue:String} AND symbol = {symbol:String} AND interval != '1d' AND ts >= "
            f"{{after:DateTime64(3, 'UTC')}}{where} ORDER BY closed DESC, ts DESC LIMIT 1",
            parameters=params,
        ).result_rows
        if not rows:
            return None
        closed, close, interval = rows[0]
        return _utc(closed).to_pydatetime(), float(close), str(interval)

    def series(self) -> list[SeriesSummary]:
        """Every stored series with its span (in a replay, the bars closed by its now)."""
        where, params = "", {}
        if self._store.as_of is not None:
            # A bar is seen once closed: its open time plus its interval's length <= now.
            where = (
                f"WHERE ts + toIntervalSecond(multiIf({_LENGTHS}, 0)) <= "
                "{now:DateTime64(3, 'UTC')} "
            )
            params = {"now": _utc(self._store.as_of.now)}
        rows = self._store.client.query(
            "SELECT venue, symbol, interval, count(), min(ts), max(ts), max(derived), "
            f"groupUniqArray(source) FROM bars {where}GROUP BY venue, symbol, interval "
            "ORDER BY venue, symbol, interval",
            parameters=params,
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
