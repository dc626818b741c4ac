"""`quantdesk serve`: the API, the web page, Slack, the scheduler and the agent services on
the bus, in one process."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from interfaces.cli.settings import get_settings

console = Console()
log = logging.getLogger(__name__)


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
    otherwise. Orders wait (the gate is REDUCING) until the risk service's first heartbeat.
    SIGTERM and SIGINT both stop it gracefully (exit 0): HTTP drains, then the services, the
    scheduler, Slack and the desk close, its audit and trade buffers flushed."""
    # The whole served stack (FastAPI, the desk, the bus) loads when serve runs, not at
    # every `quantdesk` start.
    from agents.services.runtime import ShutdownSignals
    from core.bus import BusError
    from core.store import StoreConfigError, StoreLockedError
    from core.telemetry import serve_metrics
    from interfaces.scheduler import ScheduleError
    from interfaces.server import HttpServerError, build, local_admin_key

    settings, key = local_admin_key(get_settings())
    # Installed before the desk opens, so a SIGTERM during the start still closes what opened.
    with ShutdownSignals() as shutdown:
        try:
            server = build(settings, schedule=schedule, bus=bus)
        except (StoreLockedError, StoreConfigError, ScheduleError, BusError) as exc:
            console.print(f"[red]cannot serve:[/] {exc}")
            raise typer.Exit(2) from None
        try:
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
            server.serve_http(settings.api_host, bind, shutdown)
        except HttpServerError as exc:
            console.print(f"[red]cannot serve:[/] {exc}")
            raise typer.Exit(2) from None
        finally:
            server.close(shutdown.received)
    log.info(
        "serve stopped by %s: services, scheduler and desk closed, audit flushed",
        shutdown.received.name if shutdown.received is not None else "request",
    )
