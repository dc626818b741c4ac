"""`quantdesk agent md` and `quantdesk agent stream`: the market-data adapter and the stream
dataflow as their own processes (tools/stream). Both speak to QUANTDESK_KAFKA_BOOTSTRAP, or to
the local broker `quantdesk services up` starts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.settings import Settings

console = Console(width=None if Console().is_terminal else 120)


@dataclass(frozen=True)
class StreamOptions:
    interval: str
    bounded: bool
    recovery_dir: Path | None
    store_dsn: str | None
    bus: bool
    snapshot_s: float
    lateness_s: float
    topics: tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class MarketDataOptions:
    exchange: str
    symbols: list[str]
    venue: str
    interval: str
    speed: float
    topic: str | None
    books: bool = True
    batch: int = 1
    """Replay: trades a record; above 1, runs of them as `trade_batch.v1` records."""
    books_topic: str | None = None


def stream_store_dsn(settings: Settings) -> str:
    """Where the dataflow writes bars: the desk's ClickHouse when it is a server; an embedded
    store takes one writer per path, so the dataflow gets its own beside the desk's."""
    if settings.store_dsn and not settings.store_dsn.startswith("chdb:"):
        return settings.store_dsn
    return f"chdb://{(settings.data_dir / 'stream' / 'clickhouse').resolve()}"


def run_stream(settings: Settings, options: StreamOptions) -> None:
    from tools.stream.dataflow import FlowConfig, run_flow
    from tools.stream.topics import DESK_TOPICS, bootstrap_servers, ensure_topics

    bootstrap = bootstrap_servers(settings)
    trades, books, dead = options.topics
    if not any(options.topics):
        ensure_topics(bootstrap, DESK_TOPICS)
    defaults = FlowConfig(bootstrap=bootstrap, store_dsn="")
    config = FlowConfig(
        bootstrap=bootstrap,
        store_dsn=options.store_dsn or stream_store_dsn(settings),
        interval=options.interval,
        lateness_s=options.lateness_s,
        tail=not options.bounded,
        bus_connect=(settings.bus_hub, *settings.bus_connect) if options.bus else (),
        trades_topic=trades or defaults.trades_topic,
        books_topic=books or defaults.books_topic,
        dead_letter_topic=dead or defaults.dead_letter_topic,
    )
    recovery = options.recovery_dir or settings.data_dir / "stream" / "recovery"
    console.print(
        f"stream: {config.trades_topic}, {config.books_topic} on {bootstrap} -> "
        f"{config.interval} bars in {config.store_dsn}; recovery {recovery}"
    )
    run_flow(config, recovery, snapshot_s=options.snapshot_s)
    console.print("stream: end of input")


def run_market_data(settings: Settings, options: MarketDataOptions) -> None:
    from tools.stream.replay import new_producer
    from tools.stream.topics import (
        DESK_TOPICS,
        MD_BOOKS,
        MD_TRADES,
        bootstrap_servers,
        ensure_topics,
    )

    if options.exchange != "replay":
        from rich.markup import escape

        from tools.stream.live_adapter import LiveEvent, LiveFeedError, Reconnect, run_live

        bootstrap = bootstrap_servers(settings)
        if options.topic is None:
            ensure_topics(bootstrap, DESK_TOPICS)
        topic = options.topic or MD_TRADES.name
        books = (options.books_topic or MD_BOOKS.name) if options.books else None

        def report(event: LiveEvent) -> None:
            colour = "yellow" if isinstance(event, Reconnect) else "red"
            console.print(f"[{colour}]md:[/] {escape(str(event))}")

        console.print(
            f"md: live trades{' and books' if books else ''} of {', '.join(options.symbols)} "
            f"from {options.exchange} -> {topic}{f', {books}' if books else ''} on {bootstrap}; "
            "Ctrl-C stops"
        )
        try:
            stats = run_live(
                options.exchange, options.symbols, new_producer(bootstrap), topic,
                books_topic=books, on_event=report,
            )  # fmt: skip
        except LiveFeedError as exc:
            console.print(f"[red]md:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
        console.print(f"md: {stats.summary()}")
        return
    from core.store import Store
    from core.store.market_data import MarketDataStore
    from tools.stream.bars import INTERVALS
    from tools.stream.messages import TradeBatchV1, TradeV1, trades_in
    from tools.stream.replay import produce, trade_batches_from_bars, trades_from_bars

    interval_ms = int(INTERVALS[options.interval].total_seconds() * 1000)
    bootstrap = bootstrap_servers(settings)
    if options.topic is None:
        ensure_topics(bootstrap, DESK_TOPICS)
    with Store.open(settings) as store:
        series = {
            s: MarketDataStore(store).read_bars(options.venue, s, options.interval)
            for s in options.symbols
        }
    producer = new_producer(bootstrap)
    total = sum(4 * int((bars["volume"] > 0).sum()) for bars in series.values())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    session = uuid.uuid4().hex[:16]  # a rerun numbers its feeds afresh
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"replay x{options.speed:g}", total=total)
        for symbol, bars in series.items():
            args = (bars, options.venue, symbol, interval_ms)
            records: Iterable[TradeV1 | TradeBatchV1] = (
                trade_batches_from_bars(*args, session=session, size=options.batch)
                if options.batch > 1
                else trades_from_bars(*args, session=session)
            )
            produce(
                producer, records, options.speed,
                on_record=lambda r: progress.advance(task, trades_in(r)),
                topic=options.topic or MD_TRADES.name,
            )  # fmt: skip
    console.print(f"md: {total} trades from {len(series)} stored series sent to {bootstrap}")
