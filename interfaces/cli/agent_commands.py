"""`quantdesk agent <name>`: run one agent as its own process on the bus."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

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


def agent(
    name: Annotated[AgentName, typer.Argument(help="Which agent to run.")],
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
) -> None:
    """Run one agent as a service until SIGTERM / Ctrl-C. Start execution first: it owns the
    store and the gateway and listens on QUANTDESK_BUS_HUB; the others connect to it.
    `all` runs the four in this one process, on the same bus and code."""
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
