"""Loaders: CSV, Parquet or a DataFrame in, a raw bar frame out.

A raw bar frame has the store's bar columns, but nothing is validated yet: unparseable
timestamps are NaT and unparseable numbers NaN, so quality control can quarantine them
with a reason instead of the loader dropping them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.models.market import Interval
from core.store.bar_frame import BAR_COLUMNS, OHLCV

_TS_NAMES = ("ts", "timestamp", "time", "date", "datetime", "day", "open_time")


class DataLoadError(ValueError):
    """The input cannot be read as bars; nothing was stored."""


def _find_ts_column(frame: pd.DataFrame) -> str:
    lowered = {str(c).strip().lower(): str(c) for c in frame.columns}
    for name in _TS_NAMES:
        if name in lowered:
            return lowered[name]
    raise DataLoadError(
        f"no timestamp column: expected one of {list(_TS_NAMES)}, got {list(frame.columns)}"
    )


def _parse_timestamps(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        # Epoch seconds until 5138 AD stay below 1e11; ccxt and most venues send milliseconds.
        unit: Literal["ms", "s"] = "ms" if numbers.abs().max() > 1e11 else "s"
        from_epoch: pd.Series = pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
        return from_epoch
    parsed: pd.Series = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    return parsed


def from_dataframe(
    frame: pd.DataFrame,
    *,
    venue: str,
    symbol: str,
    interval: Interval | str,
    source: str,
    derived: bool = False,
) -> pd.DataFrame:
    """Normalise any OHLCV frame (index or a column holding the time) to a raw bar frame."""
    interval = Interval(interval)
    if not venue or not symbol:
        raise DataLoadError("venue and symbol are required")
    data = frame.copy()
    if isinstance(data.index, pd.DatetimeIndex) or data.index.name:
        data = data.reset_index()
    data.columns = [str(c).strip() for c in data.columns]
    ts_column = _find_ts_column(data)
    by_name = {c.lower(): c for c in data.columns}
    missing = [c for c in OHLCV if c not in by_name]
    if missing:
        raise DataLoadError(f"missing OHLCV columns {missing}; got {list(frame.columns)}")
    out = pd.DataFrame(
        {
            "venue": venue,
            "symbol": symbol,
            "interval": str(interval),
            "ts": _parse_timestamps(data[ts_column]).astype("datetime64[ms, UTC]"),
        }
    )
    for column in OHLCV:
        out[column] = pd.to_numeric(data[by_name[column]], errors="coerce").astype(np.float64)
    out["derived"] = derived
    out["source"] = source
    return out.loc[:, BAR_COLUMNS]


def _read_file(
    path: Path,
    read: Callable[[Path], pd.DataFrame],
    unreadable: tuple[type[Exception], ...],
    kind: str,
) -> pd.DataFrame:
    try:
        return read(path)
    except FileNotFoundError:
        raise DataLoadError(f"{path}: no such file") from None
    except unreadable as exc:
        raise DataLoadError(f"{path}: not a readable {kind} file ({exc})") from exc


def load_csv(
    path: Path, *, venue: str, symbol: str, interval: Interval | str, source: str | None = None
) -> pd.DataFrame:
    """Read OHLCV bars from a CSV file."""
    frame = _read_file(
        path,
        pd.read_csv,
        (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError),
        "CSV",
    )
    return from_dataframe(
        frame,
        venue=venue,
        symbol=symbol,
        interval=interval,
        source=source or f"csv:{Path(path).name}",
    )


def load_parquet(
    path: Path, *, venue: str, symbol: str, interval: Interval | str, source: str | None = None
) -> pd.DataFrame:
    """Read OHLCV bars from a Parquet file."""
    frame = _read_file(path, pd.read_parquet, (OSError, ValueError), "Parquet")
    return from_dataframe(
        frame,
        venue=venue,
        symbol=symbol,
        interval=interval,
        source=source or f"parquet:{Path(path).name}",
    )
