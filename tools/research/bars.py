"""Bars for research: numpy arrays from the store, with a data version for tracking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.store import MarketDataStore, Store

Floats = npt.NDArray[np.float64]


class ResearchDataError(ValueError):
    """The bars asked for cannot be used (unknown series, empty range, bad values)."""


@dataclass(frozen=True)
class BarSeries:
    venue: str
    symbol: str
    interval: str
    ts: pd.DatetimeIndex
    open: Floats
    high: Floats
    low: Floats
    close: Floats
    volume: Floats

    def __len__(self) -> int:
        return len(self.close)

    @property
    def instrument_id(self) -> str:
        return f"{self.venue}:{self.symbol}"

    @property
    def data_version(self) -> str:
        """A content hash: two runs on the same bars log the same version."""
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"{self.venue}|{self.symbol}|{self.interval}".encode())
        digest.update(self.ts.asi8.tobytes())
        for column in (self.open, self.high, self.low, self.close, self.volume):
            digest.update(np.ascontiguousarray(column).tobytes())
        return digest.hexdigest()

    def slice(self, start: int, stop: int) -> BarSeries:
        return BarSeries(
            self.venue, self.symbol, self.interval, self.ts[start:stop],
            self.open[start:stop], self.high[start:stop], self.low[start:stop],
            self.close[start:stop], self.volume[start:stop],
        )  # fmt: skip

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, venue: str, symbol: str, interval: str) -> BarSeries:
        if frame.empty:
            raise ResearchDataError(f"no {venue} {symbol} {interval} bars in that range")
        arrays = {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")}
        for name, values in arrays.items():
            if not np.isfinite(values).all() or (values <= 0).any():
                raise ResearchDataError(f"{symbol} {name} has non-finite or non-positive values")
        return cls(
            venue, symbol, interval, pd.DatetimeIndex(frame["ts"]), arrays["open"],
            arrays["high"], arrays["low"], arrays["close"],
            frame["volume"].to_numpy(dtype=np.float64),
        )  # fmt: skip


def load_bars(
    store: Store,
    venue: str,
    symbol: str,
    interval: str,
    start: str | None = None,
    end: str | None = None,
) -> BarSeries:
    """Bars of one stored series; an unknown series or an empty range is a clear error."""
    if start is not None and end is not None and pd.Timestamp(start) >= pd.Timestamp(end):
        raise ResearchDataError(f"empty date range: start {start} is not before end {end}")
    frame = MarketDataStore(store).read_bars(venue, symbol, interval, start, end)
    if frame.empty:
        known = {(s.venue, s.symbol, s.interval) for s in MarketDataStore(store).series()}
        if (venue, symbol, interval) not in known:
            raise ResearchDataError(f"unknown series {venue} {symbol} {interval}")
    return BarSeries.from_frame(frame, venue, symbol, interval)
