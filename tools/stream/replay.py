"""The replay adapter: stored history streamed through the live topics at N times its speed,
so everything downstream (the dataflow, the store, the bus) runs as on a live feed.

The store holds bars, not the trades they came from, so each bar is replayed as the trades
that would print it: open, then the extreme nearer the open, the other extreme, and close,
at a quarter of the bar apart, each with a quarter of its volume. Folded back into bars of
the same interval they give the stored bar exactly; a bar with no volume had no trades and
sends none."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tools.stream.messages import TradeBatchV1, TradeV1, trades_in
from tools.stream.topics import MD_TRADES, send_record

if TYPE_CHECKING:
    from confluent_kafka import Producer


_OHLC = ("open", "high", "low", "close")


def trades_from_bars(
    bars: pd.DataFrame,
    venue: str,
    symbol: str,
    interval_ms: int,
    first_seq: int = 0,
    session: str | None = None,
) -> Iterator[TradeV1]:
    """The trades that print `bars` (columns ts, open, high, low, close, volume), in order,
    numbered from `first_seq` within the adapter run `session`, a record each."""
    for batch in trade_batches_from_bars(bars, venue, symbol, interval_ms, first_seq, session):
        yield from batch.trades()


def trade_batches_from_bars(
    bars: pd.DataFrame,
    venue: str,
    symbol: str,
    interval_ms: int,
    first_seq: int = 0,
    session: str | None = None,
    size: int = 500,
) -> Iterator[TradeBatchV1]:
    """The trades that print `bars`, as batch records of up to `size` trades: open, then the
    extreme nearer the open, the other extreme, and close, at a quarter of the bar apart and a
    quarter of its volume each (a bar with no volume prints none). Made in numpy, not a record
    object per trade."""
    volume = bars["volume"].astype(float).to_numpy()
    traded = volume > 0
    epoch = pd.Timestamp(0, tz="UTC")
    starts = (pd.to_datetime(bars["ts"], utc=True) - epoch) // pd.Timedelta(milliseconds=1)
    start = starts.to_numpy(dtype=np.int64)[traded]
    o, h, lo, c = (bars[k].astype(float).to_numpy()[traded] for k in _OHLC)
    low_first = np.abs(o - lo) <= np.abs(h - o)
    path = np.column_stack((o, np.where(low_first, lo, h), np.where(low_first, h, lo), c))
    steps = np.arange(4, dtype=np.int64)
    ts = (start[:, None] + steps * interval_ms // 4).ravel()
    price = path.ravel()
    quantity = np.repeat(volume[traded] / 4, 4)
    ids = [f"{s}-{k}" for s in start.tolist() for k in range(4)]
    for at in range(0, len(ts), size):
        end = at + size
        yield TradeBatchV1(
            venue=venue, symbol=symbol, session=session, first_seq=first_seq + at,
            trade_id=ids[at:end], ts_ms=ts[at:end].tolist(), price=price[at:end].tolist(),
            quantity=quantity[at:end].tolist(), side=[None] * len(ids[at:end]),
        )  # fmt: skip


@dataclass
class ReplayCount:
    trades: int = 0
    seconds: float = 0.0


def produce(
    producer: Producer,
    trades: Iterable[TradeV1 | TradeBatchV1],
    speed: float = 0.0,
    on_record: Callable[[TradeV1 | TradeBatchV1], None] | None = None,
    topic: str = MD_TRADES.name,
) -> ReplayCount:
    """Send `trades` (records of one trade or of a batch) to the trades topic keyed by
    instrument; `speed` N paces each record at N times its own clock, by its first trade (0:
    as fast as the broker takes them). Waits until all are delivered. Counts trades."""
    count = ReplayCount()
    began = time.perf_counter()
    first_ts: int | None = None
    for record in trades:
        ts_ms = record.ts_ms if isinstance(record, TradeV1) else record.ts_ms[0]
        if speed > 0:
            first_ts = ts_ms if first_ts is None else first_ts
            due = (ts_ms - first_ts) / 1000 / speed
            ahead = due - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)
        send_record(producer, topic, record)
        count.trades += trades_in(record)
        if on_record is not None:
            on_record(record)
    left = producer.flush(30)
    if left:
        raise RuntimeError(f"{left} record(s) not delivered to {topic} within 30 s")
    count.seconds = time.perf_counter() - began
    return count


def new_producer(bootstrap: str) -> Producer:
    """A producer that keeps each feed's order: idempotent, acks from all replicas."""
    from confluent_kafka import Producer

    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 500_000,
        }
    )
