"""`quantdesk gateway state` and `quantdesk gateway rearm`: the trading states a restart
keeps, and the human action that lifts them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from interfaces.cli.settings import get_settings

console = Console(width=None if Console().is_terminal else 120)


def show_state() -> None:
    """The account's and each strategy's trading state, with who set it and why."""
    from gateway.journal import SafetyJournal  # the gate's package: loaded when asked

    path = get_settings().data_dir / "safety.sqlite"
    if not path.exists():
        console.print("no trading state recorded yet: the desk starts ACTIVE")
        return
    journal = SafetyJournal(path)
    try:
        records = journal.states()
    finally:
        journal.close()
    table = Table(title="Trading states (kept across restarts)", title_justify="left")
    for column in ("scope", "state", "by", "why", "since"):
        table.add_column(column)
    for r in records:
        since = datetime.fromtimestamp(r.ts_ms / 1000, UTC).isoformat(timespec="seconds")
        table.add_row(r.scope, r.state.upper(), r.actor, r.reason, since)
    console.print(table)


def rearm(
    by: Annotated[str, typer.Option("--by", help="Your name: only a named human re-arms.")],
    reason: Annotated[str, typer.Option(help="Why it is safe to trade again (recorded).")],
) -> None:
    """Lift HALTED or REDUCING back to ACTIVE, as the named human (recorded)."""
    from gateway import GatewayError
    from interfaces.cli.desk_commands import session  # opens the store: only when re-arming

    with session() as desk:
        try:
            desk.desk.gateway.rearm(f"human:{by}", reason)
        except GatewayError as exc:
            console.print(f"[red]re-arm refused:[/] {exc}")
            raise typer.Exit(2) from None
        console.print(f"ACTIVE: re-armed by human:{by} ({reason})")
