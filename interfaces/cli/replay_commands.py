"""`quantdesk replay`: the whole desk over history, day by day, then its report against
buy-and-hold, a moving-average rule and random entries under the same costs."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from interfaces.cli.settings import get_settings

if TYPE_CHECKING:
    from core.models.approval import ApprovalCard

console = Console(width=None if Console().is_terminal else 120)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _ask(card: ApprovalCard) -> bool:
    console.print(
        f"[bold]approval[/bold] {card.order.side} {card.order.quantity:g} {card.order.symbol} "
        f"notional {card.notional:,.0f} ({', '.join(card.gate_reasons)}); "
        f"{card.approvals_needed} approver(s) needed"
    )
    return typer.confirm("approve?", default=False)


def replay(
    start: Annotated[str, typer.Option("--from", help="First simulated day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="The day after the last (YYYY-MM-DD).")],
    router: Annotated[str, typer.Option(help="Who reads requests: rules or llm.")] = "rules",
    universe: Annotated[
        str, typer.Option(help="Instruments, comma-separated venue:SYMBOL.")
    ] = "bitstamp:BTC/USD,bitstamp:ETH/USD,bitstamp:LTC/USD",
    cash: Annotated[float, typer.Option(help="Starting cash of the paper account.")] = 1e6,
    approvals: Annotated[
        str,
        typer.Option(help="approve, refuse, approve-up-to=NOTIONAL, or ask (on this terminal)."),
    ] = "approve-up-to=100000",
    schedule: Annotated[
        Path | None, typer.Option(help="A replay schedule (default: core/replay_schedule.toml).")
    ] = None,
    memory: Annotated[
        bool,
        typer.Option(help="Research remembers and recalls notes (as of each day); advisory."),
    ] = False,
    dataset: Annotated[str, typer.Option(help="The bundled dataset to replay.")] = "crypto",
    mlflow: Annotated[bool, typer.Option(help="Log the replay as an MLflow run.")] = True,
) -> None:
    """Replay the desk over history: a simulated clock runs the scheduled jobs through the
    same graph, gate and paper venue as live; orders fill at the next open with costs."""
    from interfaces.replay.run import ReplayRequest, replay_and_report
    from interfaces.replay.setup import ReplayConfigError

    try:
        request = ReplayRequest(
            start=_day(start), end=_day(end), router=router,
            universe=tuple(u.strip() for u in universe.split(",") if u.strip()),
            cash=cash, approvals=approvals, memory=memory, mlflow=mlflow, dataset=dataset,
            **({"schedule": schedule} if schedule is not None else {}),
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc).splitlines()[-1]) from None
    days = (request.end - request.start).days
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("replay", total=max(days, 0))

        def on_day(mark: object, orders: int) -> None:
            from tools.replay.models import DayMark

            assert isinstance(mark, DayMark)
            progress.update(
                task, advance=1,
                description=f"{mark.day} equity {mark.equity:,.0f} orders {orders}",
            )  # fmt: skip

        try:
            outcome = replay_and_report(
                get_settings(), request, on_day=on_day, ask=_ask if approvals == "ask" else None
            )
        except ReplayConfigError as exc:
            console.print(f"[red]replay refused:[/red] {exc}")
            raise typer.Exit(2) from None
    console.print(outcome.summary_line)
    console.print(f"report: {outcome.report}")
    if outcome.mlflow_run:
        console.print(f"MLflow run: {outcome.mlflow_run}")
    console.print(f"took {outcome.wall_s:.1f} s at {datetime.now():%H:%M:%S}")
