"""The stream dataflow (Bytewax): market-data topics in, bars out.

    md.trades.v1, md.books.v1 ─ decode ─┬─ unreadable ──────────> md.dead-letter.v1
                                        └─ by venue:symbol ─ checks ─┬─ findings ─> desk/alerts/*
                                                                     └─ trades ─ 1-minute bars
    bars ─> ClickHouse `bars`, and desk/md/{venue}/{symbol}

Restart resumes from the offsets of the last snapshot (Bytewax recovery, `run_flow`), so a
`kill -9` replays at most one snapshot interval. The replay is harmless where it lands: the
bar windows close on event time only (the clock never reads the wall clock), so a replay
makes the same bars, and the store skips a bar it already holds (`MarketData.write_bars` is
idempotent on venue, symbol, interval and ts). Dead letters, alerts and bars on the bus are
at-least-once: each carries its source (`topic:partition:offset`, or the bar's key) to
dedupe on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.connectors.kafka import (
    KafkaError,
    KafkaSink,
    KafkaSinkMessage,
    KafkaSource,
    KafkaSourceMessage,
)
from bytewax.dataflow import Dataflow
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from core.faults import crash_point
from tools.quality.config import QualityConfig
from tools.stream.bars import BarSoFar, StreamBar, event_time, fold, window_start
from tools.stream.checks import FeedState, Finding, check
from tools.stream.messages import BookV1, TradeV1, decode
from tools.stream.outputs import bar_frame, bus_message
from tools.stream.topics import MD_BOOKS, MD_DEAD_LETTER, MD_TRADES

if TYPE_CHECKING:
    from core.bus import Bus
    from core.store import Store

log = logging.getLogger("quantdesk.stream")

UTC_MIN = datetime.min.replace(tzinfo=UTC)
INTERVALS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "1h": timedelta(hours=1)}


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


def build_flow(config: FlowConfig) -> Dataflow:
    """The dataflow for `config`; run it with `run_flow` (recovery) or Bytewax's runners."""
    interval = INTERVALS[config.interval]
    quality = QualityConfig()
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
        "readable", op.map("decode", raw, _read), _is_ok
    )
    op.output(
        "dead_letters",
        op.map("letter", read.falses, lambda kv: kv[1]),
        KafkaSink(brokers, config.dead_letter_topic),
    )
    records = op.key_on("by_feed", op.map("record", read.trues, lambda kv: kv[1]), lambda r: r.key)

    def checked(state: FeedState | None, record: TradeV1 | BookV1) -> tuple[FeedState, Any]:
        state, found, keep = check(state, record, quality)
        return state, (found, record if keep else None)

    passed = op.stateful_map("checks", records, checked)
    findings = op.flat_map("findings", passed, lambda kv: kv[1][0])
    op.inspect(
        "log_findings",
        findings,
        lambda _step, f: log.warning("%s %s: %s", f.feed, f.kind, f.detail),
    )
    trades = op.filter_map(
        "trades", passed, lambda kv: (kv[0], kv[1][1]) if isinstance(kv[1][1], TradeV1) else None
    )
    clock: win.EventClock[TradeV1] = win.EventClock(
        event_time,
        timedelta(seconds=config.lateness_s),
        # Event time only: a restart after downtime must close the same windows as a clean run.
        now_getter=lambda: UTC_MIN,
        to_system_utc=lambda _ts: None,
    )
    windows = win.fold_window(
        "bars",
        trades,
        clock,
        win.TumblingWindower(length=interval, align_to=window_start(0, interval)),
        builder=lambda: None,
        folder=fold,
        merger=_merge,
    )
    late = op.map("late", windows.late, lambda kv: _late(kv, interval))
    bars = op.map("bar", windows.down, lambda kv: _bar(kv, config.interval, interval))
    op.output("store", bars, StoreSink(config.store_dsn))
    if config.bus_connect:
        events = op.merge("events", bars, findings, late)
        op.output("bus", events, BusSink(config.bus_connect))
    return flow


def _is_ok(kv: tuple[str, Any]) -> bool:
    return kv[0] == "ok"


def _merge(a: BarSoFar | None, b: BarSoFar | None) -> BarSoFar | None:
    # Tumbling windows never merge; Bytewax requires the function.
    return a or b


def _bar(
    item: tuple[str, tuple[int, BarSoFar | None]], name: str, interval: timedelta
) -> StreamBar:
    feed, (window_id, bar) = item
    assert bar is not None  # a window opens with its first trade
    venue, _, symbol = feed.partition(":")
    return StreamBar(venue, symbol, name, window_start(window_id, interval), bar)


def _late(item: tuple[str, tuple[int, TradeV1]], interval: timedelta) -> Finding:
    feed, (window_id, trade) = item
    start = window_start(window_id, interval)
    return Finding(
        feed, "late_trade", trade.seq, trade.ts_ms,
        f"trade for the bar at {start:%H:%M:%S} came after it closed: not in the bar",
    )  # fmt: skip


def run_flow(config: FlowConfig, recovery_dir: Path, snapshot_s: float = 1.0) -> None:
    """Run the dataflow with recovery under `recovery_dir` (created on first use); a restart
    with the same directory resumes where the last snapshot left off."""
    from bytewax.recovery import RecoveryConfig, init_db_dir
    from bytewax.run import cli_main

    if not any(recovery_dir.glob("part-*.sqlite3")):
        recovery_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(recovery_dir, 1)  # type: ignore[no-untyped-call]
    recovery = RecoveryConfig(str(recovery_dir))  # type: ignore[no-untyped-call]
    cli_main(  # type: ignore[no-untyped-call]
        build_flow(config),
        workers_per_process=1,
        epoch_interval=timedelta(seconds=snapshot_s),
        recovery_config=recovery,
    )
