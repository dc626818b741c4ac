"""Trades folded into bars: the pure arithmetic of the stream's bar step, kept apart from
Bytewax so that it can be read and tested on its own. A bar's window is `[start, start +
interval)` in event time (the venue's timestamp), aligned to the epoch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tools.stream.messages import TradeV1

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INTERVALS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "1h": timedelta(hours=1)}


@dataclass(frozen=True)
class BarSoFar:
    """A bar as its trades arrive; `trades` counts them."""

    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int


def fold(bar: BarSoFar | None, trade: TradeV1) -> BarSoFar:
    """`bar` with one more trade (the first trade opens it)."""
    if bar is None:
        return BarSoFar(trade.price, trade.price, trade.price, trade.price, trade.quantity, 1)
    return BarSoFar(
        open=bar.open,
        high=max(bar.high, trade.price),
        low=min(bar.low, trade.price),
        close=trade.price,
        volume=bar.volume + trade.quantity,
        trades=bar.trades + 1,
    )


def window_start(window_id: int, interval: timedelta) -> datetime:
    """The start of tumbling window `window_id` (of `interval`s since the epoch)."""
    return EPOCH + window_id * interval


@dataclass(frozen=True)
class StreamBar:
    """A closed bar of one instrument, as the store and the bus take it."""

    venue: str
    symbol: str
    interval: str
    ts: datetime
    bar: BarSoFar
