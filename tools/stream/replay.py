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

import pandas as pd

from tools.stream.messages import TradeV1, encode
from tools.stream.topics import MD_TRADES, instrument_key

if TYPE_CHECKING:
    from confluent_kafka import Producer


def trades_from_bars(
    bars: pd.DataFrame,
    venue: str,
    symbol: str,
    interval_ms: int,
    first_seq: int = 0,
    session: str | None = None,
) -> Iterator[TradeV1]:
    """The trades that print `bars` (columns ts, open, high, low, close, volume), in order,
    numbered from `first_seq` within the adapter run `session`."""
    seq = first_seq
    # Milliseconds by arithmetic, not by the integer view, whose unit follows the column's.
    epoch = pd.Timestamp(0, tz="UTC")
    starts = (pd.to_datetime(bars["ts"], utc=True) - epoch) // pd.Timedelta(milliseconds=1)
    prices = (bars[c].astype(float).tolist() for c in ("open", "high", "low", "close", "volume"))
    columns = zip(starts.tolist(), *prices, strict=True)
    for start_ms, o, h, lo, c, volume in columns:
        if not volume > 0:
            continue
        path = (o, lo, h, c) if abs(o - lo) <= abs(h - o) else (o, h, lo, c)
        for step, price in enumerate(path):
            yield TradeV1(
                venue=venue,
                symbol=symbol,
                trade_id=f"{start_ms}-{step}",
                seq=seq,
                session=session,
                ts_ms=start_ms + step * interval_ms // 4,
                price=price,
                quantity=volume / 4,
                side=None,
            )
            seq += 1


@dataclass
class ReplayCount:
    records: int = 0
    seconds: float = 0.0


def produce(
    producer: Producer,
    trades: Iterable[TradeV1],
    speed: float = 0.0,
    on_record: Callable[[TradeV1], None] | None = None,
    topic: str = MD_TRADES.name,
) -> ReplayCount:
    """Send `trades` to the trades topic keyed by instrument; `speed` N paces them at N times
    their own clock (0: as fast as the broker takes them). Waits until all are delivered."""
    count = ReplayCount()
    began = time.perf_counter()
    first_ts: int | None = None
    for trade in trades:
        if speed > 0:
            first_ts = trade.ts_ms if first_ts is None else first_ts
            due = (trade.ts_ms - first_ts) / 1000 / speed
            ahead = due - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)
        _send(producer, topic, instrument_key(trade.venue, trade.symbol), encode(trade))
        count.records += 1
        if on_record is not None:
            on_record(trade)
    left = producer.flush(30)
    if left:
        raise RuntimeError(f"{left} record(s) not delivered to {topic} within 30 s")
    count.seconds = time.perf_counter() - began
    return count


def _send(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
    while True:
        try:
            producer.produce(topic, key=key, value=value)
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.05)  # the local queue is full: let deliveries drain it


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
