"""The stream dataflow (Bytewax): market-data topics in, bars out.

    md.trades.v1, md.books.v1 ─ decode a poll ─┬─ unreadable ─────> md.dead-letter.v1
                                               └─ each feed's records ─ checks, bars
    findings ─> desk/alerts/*;  closed bars ─> ClickHouse `bars`, and desk/md/{venue}/{symbol}

Records travel in batches, one item per feed per poll (`tools/stream/feed_windows.py` holds
the checks and the event-time windows): Bytewax's cost is per item, not per record.

Restart resumes from the offsets of the last snapshot (Bytewax recovery, `run_flow`), so a
`kill -9` replays at most one snapshot interval. The replay is harmless where it lands: the
bar windows close on event time only (the clock never reads the wall clock), so a replay
makes the same bars, and the store skips a bar it already holds (`MarketData.write_bars` is
idempotent on venue, symbol, interval and ts). Dead letters, alerts and bars on the bus are
at-least-once: each carries its source (`topic:partition:offset`, or the bar's key) to
dedupe on.
"""

from __future__ import annotations

import copy
import gc
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bytewax.operators as op
from bytewax.connectors.kafka import (
    KafkaError,
    KafkaSink,
    KafkaSinkMessage,
    KafkaSource,
    KafkaSourceMessage,
)
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulLogic
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from core.faults import crash_point
from tools.quality.config import QualityConfig
from tools.stream.bars import INTERVALS, StreamBar
from tools.stream.checks import Finding
from tools.stream.feed_windows import FeedWindows
from tools.stream.messages import Record, decode
from tools.stream.outputs import bar_frame, bus_message
from tools.stream.topics import MD_BOOKS, MD_DEAD_LETTER, MD_TRADES

if TYPE_CHECKING:
    from core.bus import Bus
    from core.store import Store

log = logging.getLogger("quantdesk.stream")

__all__ = ["FlowConfig", "build_flow", "run_flow"]


@dataclass(frozen=True)
class FlowConfig:
    """What one run of the dataflow reads and writes."""

    bootstrap: str
    store_dsn: str
    interval: str = "1m"
    lateness_s: float = 2.0
    """How far out of order trades may come: a window closes once a trade this much past its
    end has been seen (or at the end of a bounded run)."""
    tail: bool = True
    """False: stop at the end of each partition (a bounded run, for tests and replays)."""
    bus_connect: tuple[str, ...] = ()
    """Zenoh endpoints to publish bars and alerts on; none: no bus."""
    trades_topic: str = MD_TRADES.name
    books_topic: str = MD_BOOKS.name
    dead_letter_topic: str = MD_DEAD_LETTER.name


def _dead_letter(
    msg: KafkaSourceMessage[bytes, bytes], reason: str
) -> KafkaSinkMessage[bytes, bytes]:
    origin = f"{msg.topic}:{msg.partition}:{msg.offset}"
    return KafkaSinkMessage(
        key=(msg.topic or "").encode(),
        value=msg.value if msg.value is not None else b"",
        headers=[("dlq.reason", reason.encode()), ("dlq.source", origin.encode())],
    )


def _read(msg: KafkaSourceMessage[Any, Any] | KafkaError[Any, Any]) -> tuple[str, Any]:
    if isinstance(msg, KafkaError):  # not raised with raise_on_errors; kept for types
        return "dead", _dead_letter(msg.msg, f"kafka error: {msg.err}")
    crash_point("stream.decoded")
    record = decode(msg.value)
    if isinstance(record, str):
        log.warning("dead letter %s:%s:%s: %s", msg.topic, msg.partition, msg.offset, record)
        return "dead", _dead_letter(msg, record)
    return "ok", record


class _StorePartition(StatelessSinkPartition[StreamBar]):
    def __init__(self, dsn: str) -> None:
        from core.store import Store
        from core.store.market_data import MarketDataStore

        self._store: Store = Store(dsn)
        self._store.migrate()
        self._bars = MarketDataStore(self._store)

    def write_batch(self, items: list[StreamBar]) -> None:
        result = self._bars.write_bars(bar_frame(items))
        crash_point("stream.stored")
        if len(result.conflicts):
            log.error("%d streamed bars differ from the stored ones", len(result.conflicts))

    def close(self) -> None:
        self._store.close()


class StoreSink(DynamicSink[StreamBar]):
    """Bars into ClickHouse, one insert per batch; a bar already stored is skipped."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition:
        return _StorePartition(self._dsn)


class _BusPartition(StatelessSinkPartition[Any]):
    def __init__(self, connect: tuple[str, ...]) -> None:
        from core.bus import Bus

        self._bus: Bus = Bus.open("client", connect=list(connect))

    def write_batch(self, items: list[Any]) -> None:
        for item in items:
            key, message = bus_message(item)
            self._bus.publish(key, message)

    def close(self) -> None:
        self._bus.close()


class BusSink(DynamicSink[Any]):
    """Bars and findings on the bus, at least once: a bar waits for room rather than drop."""

    def __init__(self, connect: tuple[str, ...]) -> None:
        self._connect = connect

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _BusPartition:
        return _BusPartition(self._connect)


def _read_batch(msgs: list[KafkaSourceMessage[Any, Any] | KafkaError[Any, Any]]) -> list[Any]:
    """A poll's records, each feed's together in arrival order (one item per feed, not per
    record: a Bytewax step costs tens of microseconds an item); dead letters one by one."""
    out: list[Any] = []
    feeds: dict[str, list[Record]] = {}
    for msg in msgs:
        kind, item = _read(msg)
        if kind == "dead":
            out.append(("dead", item))
        else:
            feeds.setdefault(item.key, []).append(item)
    out.extend(("ok", batch) for batch in feeds.items())
    return out


class _FeedLogic(StatefulLogic[tuple[str, list[Any]], StreamBar | Finding, FeedWindows]):
    def __init__(self, windows: FeedWindows, quality: QualityConfig) -> None:
        self._windows = windows
        self._quality = quality

    def on_item(self, value: tuple[str, list[Any]]) -> tuple[list[StreamBar | Finding], bool]:
        self._windows.feed = value[0]
        return self._windows.take(value[1], self._quality), StatefulLogic.RETAIN

    def on_eof(self) -> tuple[list[StreamBar | Finding], bool]:
        return self._windows.drain(), StatefulLogic.RETAIN

    def snapshot(self) -> FeedWindows:
        return copy.deepcopy(self._windows)


def build_flow(config: FlowConfig) -> Dataflow:
    """The dataflow for `config`; run it with `run_flow` (recovery) or Bytewax's runners."""
    if config.interval not in INTERVALS:  # at build, not at the first record mid-stream
        raise ValueError(f"no bar interval {config.interval!r}; known: {', '.join(INTERVALS)}")
    quality = QualityConfig()
    lateness_ms = round(config.lateness_s * 1000)
    brokers = config.bootstrap.split(",")
    flow = Dataflow("market_data_stream")
    raw = op.input(
        "kafka_in",
        flow,
        KafkaSource(
            brokers,
            [config.trades_topic, config.books_topic],
            tail=config.tail,
            add_config={"socket.timeout.ms": "10000"},
        ),
    )
    read: op.BranchOut[tuple[str, Any], tuple[str, Any]] = op.branch(
        "readable", op.flat_map_batch("decode", raw, _read_batch), _is_ok
    )
    op.output(
        "dead_letters",
        op.map("letter", read.falses, lambda kv: kv[1]),
        KafkaSink(brokers, config.dead_letter_topic),
    )
    batches = op.key_on("by_feed", op.map("batch", read.trues, lambda kv: kv[1]), lambda b: b[0])

    def logic(resume: FeedWindows | None) -> _FeedLogic:
        return _FeedLogic(resume or FeedWindows("", config.interval, lateness_ms), quality)

    events = op.map("event", op.stateful("feeds", batches, logic), lambda kv: kv[1])
    findings = op.filter_map("findings", events, _finding)
    op.inspect(
        "log_findings",
        findings,
        lambda _step, f: log.warning("%s %s: %s", f.feed, f.kind, f.detail),
    )
    if config.bus_connect:
        # Built before the store: the worker runs its steps in the order they were built, and
        # a ClickHouse insert (~25 ms) ahead of the bus was most of a bar's latency.
        op.output("bus", events, BusSink(config.bus_connect))
    op.output("store", op.filter_map("bars", events, _bar), StoreSink(config.store_dsn))
    return flow


def _is_ok(kv: tuple[str, Any]) -> bool:
    return kv[0] == "ok"


def _finding(event: StreamBar | Finding) -> Finding | None:
    return event if isinstance(event, Finding) else None


def _bar(event: StreamBar | Finding) -> StreamBar | None:
    return event if isinstance(event, StreamBar) else None


def run_flow(config: FlowConfig, recovery_dir: Path, snapshot_s: float = 1.0) -> None:
    """Run the dataflow with recovery under `recovery_dir` (created on first use); a restart
    with the same directory resumes where the last snapshot left off."""
    from bytewax.recovery import RecoveryConfig, init_db_dir
    from bytewax.run import cli_main

    if not any(recovery_dir.glob("part-*.sqlite3")):
        recovery_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(recovery_dir, 1)  # type: ignore[no-untyped-call]
    recovery = RecoveryConfig(str(recovery_dir))  # type: ignore[no-untyped-call]
    # Every record makes a few short-lived objects; the collector's default (a young
    # generation pass every 700 allocations) cost about 15% of a record's time.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    cli_main(  # type: ignore[no-untyped-call]
        build_flow(config),
        workers_per_process=1,
        epoch_interval=timedelta(seconds=snapshot_s),
        recovery_config=recovery,
    )
