"""`quantdesk agent <name>`: run one agent as its own process on the bus."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from interfaces.cli.settings import get_settings

console = Console(width=None if Console().is_terminal else 120)


class AgentName(StrEnum):
    EXECUTION = "execution"
    RISK = "risk"
    MONITOR = "monitor"
    DATA = "data"
    ALL = "all"
    MD = "md"
    STREAM = "stream"


def agent(
    name: Annotated[AgentName, typer.Argument(help="Which agent to run.")],
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
    exchange: Annotated[
        str,
        typer.Option(
            help="md: where trades come from: `replay` (stored history) or a ccxt exchange id "
            "streamed live over its websocket (e.g. bitstamp)."
        ),
    ] = "replay",
    symbols: Annotated[
        str, typer.Option(help="md: comma-separated symbols as the venue writes them (BTC/USD).")
    ] = "BTC/USDT",
    venue: Annotated[str, typer.Option(help="md: the stored series' venue.")] = "binance",
    interval: Annotated[str, typer.Option(help="md, stream: bar interval (1m, 5m, 1h).")] = "1m",
    speed: Annotated[
        float, typer.Option(min=0, help="md: replay at N times real time; 0: as fast as it goes.")
    ] = 0.0,
    batch: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="md, replay: trades a record (trade_batch.v1); 1: a record a trade. "
            "Default: 500 at --speed 0, else 1 (a paced record goes out at its first trade).",
        ),
    ] = None,
    books: Annotated[
        bool, typer.Option(help="md, live: also stream each symbol's top of book.")
    ] = True,
    bounded: Annotated[
        bool, typer.Option(help="stream: stop at the end of the topics rather than tail them.")
    ] = False,
    bus: Annotated[bool, typer.Option(help="stream: publish bars and alerts on the bus.")] = True,
    snapshot_s: Annotated[
        float, typer.Option("--snapshot-s", min=0.01, help="stream: seconds between snapshots.")
    ] = 1.0,
    lateness_s: Annotated[
        float,
        typer.Option("--lateness-s", min=0, help="stream: how late a trade may come for its bar."),
    ] = 2.0,
    recovery_dir: Annotated[
        Path | None, typer.Option(help="stream: recovery snapshots (default under data_dir).")
    ] = None,
    store_dsn: Annotated[
        str | None, typer.Option(help="stream: where bars go (default: see the README).")
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(hidden=True, help="Topic overrides: trades[, books, dead letters]."),
    ] = None,
) -> None:
    """Run one agent as a service until SIGTERM / Ctrl-C. Start execution first: it owns the
    store and the gateway and listens on QUANTDESK_BUS_HUB; the others connect to it.
    `all` runs the four in this one process, on the same bus and code. `md` streams trades
    into the Kafka topics; `stream` turns them into bars in ClickHouse and on the bus."""
    if name in (AgentName.MD, AgentName.STREAM):
        _stream_agent(name, locals())
        return
    # The agents, the store and the bus load when an agent runs, not when the CLI starts.
    from agents.services.launch import run_agent
    from core.bus import BusError
    from core.store import StoreConfigError, StoreLockedError

    settings = get_settings()
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    try:
        run_agent(name.value, settings)
    except (StoreLockedError, StoreConfigError) as exc:
        console.print(f"[red]store unavailable:[/] {exc}")
        raise typer.Exit(2) from None
    except BusError as exc:
        console.print(f"[red]bus:[/] {exc}")
        raise typer.Exit(2) from None


def _stream_agent(name: AgentName, given: dict[str, Any]) -> None:
    from interfaces.cli.stream_commands import (
        MarketDataOptions,
        StreamOptions,
        run_market_data,
        run_stream,
    )
    from tools.stream.topics import TopicSetupError

    settings = get_settings()
    topics = [*(given["topic"] or []), None, None, None][:3]
    try:
        if name is AgentName.MD:
            run_market_data(
                settings,
                MarketDataOptions(
                    exchange=given["exchange"],
                    symbols=[s.strip() for s in given["symbols"].split(",") if s.strip()],
                    venue=given["venue"],
                    interval=given["interval"],
                    speed=given["speed"],
                    batch=given["batch"] or (500 if given["speed"] == 0 else 1),
                    topic=topics[0],
                    books=given["books"],
                    books_topic=topics[1],
                ),
            )
        else:
            run_stream(
                settings,
                StreamOptions(
                    interval=given["interval"],
                    bounded=given["bounded"],
                    recovery_dir=given["recovery_dir"],
                    store_dsn=given["store_dsn"],
                    bus=given["bus"],
                    snapshot_s=given["snapshot_s"],
                    lateness_s=given["lateness_s"],
                    topics=(topics[0], topics[1], topics[2]),
                ),
            )
    except TopicSetupError as exc:
        console.print(f"[red]kafka:[/] {exc}")
        raise typer.Exit(2) from None
