"""`quantdesk serve`: the API, the web page, Slack, the scheduler and the agent services on
the bus, in one process."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from core.bus import BusError
from core.settings import get_settings
from core.store import StoreConfigError, StoreLockedError
from core.telemetry import serve_metrics
from interfaces.scheduler import ScheduleError
from interfaces.server import build, local_admin_key

console = Console()


def serve(
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: settings).")] = None,
    schedule: Annotated[bool, typer.Option(help="Run the scheduled jobs.")] = True,
    bus: Annotated[
        bool,
        typer.Option(
            help="Run execution, risk (with the dead-man switch), monitor and data on the Zenoh "
            "bus around this desk, listening on QUANTDESK_BUS_HUB."
        ),
    ] = True,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
) -> None:
    """Start the HTTP API (with OpenAPI at /docs), the web page, the Slack endpoint (when
    configured), the scheduler and the agent services, bound to loopback unless settings say
    otherwise. Orders wait (the gate is REDUCING) until the risk service's first heartbeat."""
    settings, key = local_admin_key(get_settings())
    try:
        server = build(settings, schedule=schedule, bus=bus)
    except (StoreLockedError, StoreConfigError, ScheduleError, BusError) as exc:
        console.print(f"[red]cannot serve:[/] {exc}")
        raise typer.Exit(2) from None
    bind = port if port is not None else settings.api_port
    metrics = metrics_port if metrics_port is not None else settings.metrics_port
    if metrics is not None:
        console.print(f"metrics on http://127.0.0.1:{serve_metrics(metrics)}/metrics")
    console.print(f"QuantDesk on http://{settings.api_host}:{bind}/ (API docs at /docs)")
    if key is not None:
        console.print(f"admin API key (in {settings.data_dir / 'api-key'}): {key}")
    if server.services is not None:
        console.print(f"agent services on the bus at {settings.bus_hub}")
    if server.slack is not None:
        console.print(f"Slack approvals go to {settings.slack_channel}")
    try:
        uvicorn.run(server.app, host=settings.api_host, port=bind, log_config=None)
    finally:
        server.close()
