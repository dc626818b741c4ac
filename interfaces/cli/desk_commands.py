"""`quantdesk ask|chat|run|approvals`: talk to the PM, run an autonomous cycle, answer
approvals. The PM graph is checkpointed in SQLite under the data dir, so a paused approval
survives a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.models.enums import RouterName
from interfaces.cli.settings import get_settings
from interfaces.cli.startup import collector_paused

if TYPE_CHECKING:
    from core.models.approval import ApprovalCard
    from graph.session import DeskSession, Turn

console = Console(width=None if Console().is_terminal else 120)
approvals = typer.Typer(help="Orders waiting for a human.", no_args_is_help=True)
Thread = Annotated[str, typer.Option(help="Conversation thread (checkpointed).")]
RouterOption = Annotated[
    RouterName | None,
    typer.Option("--router", help="Who reads requests: rules, or the configured model (llm)."),
]

CYCLE = (
    "load data",
    "health",
    "find a momentum strategy for BTC and paper-trade it",
    "what is our exposure?",
    "buy 3 BTC",
    "report",
)


@contextmanager
def session(router_name: RouterName | None = None) -> Iterator[DeskSession]:
    # The desk's stack (langgraph, pandas, the research tools) loads when a command needs the
    # desk, so `quantdesk --help` and the light commands answer at once; it loads without
    # the garbage collector walking it (interfaces/cli/startup.py).
    with collector_paused():
        from core.store import StoreConfigError, StoreLockedError
        from graph.routers import pick_router
        from graph.session import DeskSession

        settings = get_settings()
        try:
            router = pick_router(router_name, settings)
        except ValueError as exc:
            refuse(str(exc))
        try:
            opened = DeskSession(settings, router=router)
        except (StoreLockedError, StoreConfigError) as exc:
            console.print(f"[red]store unavailable:[/] {exc}")
            raise typer.Exit(2) from None
    try:
        yield opened
    finally:
        opened.close()


def show(turn: Turn) -> None:
    routed = f" (routed by {escape(turn.routed_by)})" if turn.routed_by else ""
    console.print(f"[dim]{' -> '.join(turn.trace[-8:])}{routed}[/]")
    for answer in turn.answers:
        console.print(answer)
    if turn.pending:
        show_pending(turn.thread_id, turn.pending)


def show_pending(thread_id: str, pending: ApprovalCard) -> None:
    console.print(
        f"[yellow]waiting for approval[/] (thread {thread_id}): {escape(pending.description)}\n"
        f"  answer: quantdesk approvals approve {thread_id} --approver <you> "
        f"| quantdesk approvals reject {thread_id} --approver <you>"
    )


def refuse(line: str) -> NoReturn:
    """Bad input gets one clear line and exit code 2 (as a usage error), no traceback."""
    console.print(f"[red]refused:[/] {escape(line)}", soft_wrap=True)
    raise typer.Exit(2)


def ask(text: str, thread: Thread = "desk", router: RouterOption = None) -> None:
    """One request to the PM."""
    from graph.instruction import unreadable

    problem = unreadable(text)
    if problem is not None:
        refuse(problem)
    with session(router) as desk:
        turn = desk.ask(text, thread)
    # The PM refused the request as unreadable (a zero quantity, an exponent, a symbol
    # too long): nothing ran, and the caller hears so in its exit code.
    from graph.supervisor import refused

    line = refused(turn.results)
    if line is not None:
        refuse(line)
    show(turn)


def chat(thread: Thread = "chat", router: RouterOption = None) -> None:
    """Talk to the PM; each agent's step is shown as it finishes. Empty line to quit."""
    with session(router) as desk:
        while True:
            text = console.input("[bold]pm> [/]").strip()
            if not text:
                return
            for agent, answer in desk.stream(text, thread):
                console.print(f"[dim]{agent}:[/] {answer}")
            pending = desk.pending_for(thread)
            if pending:
                show_pending(thread, pending)


def run(thread: Thread = "cycle") -> None:
    """One autonomous cycle: ingest, quality, research, risk, PM, execution on the paper venue,
    report. An order above the approval threshold pauses; the cycle says how to answer."""
    with session() as desk:
        for step in CYCLE:
            console.rule(step)
            show(desk.ask(step, f"{thread}-{CYCLE.index(step)}"))


@approvals.command("list")
def list_approvals() -> None:
    with session() as desk:
        pending = desk.pending()
        table = Table(title=f"{len(pending)} waiting", title_justify="left")
        for column in ("thread", "order", "notional", "gate reasons", "needs", "approved by"):
            table.add_column(column)
        for thread_id, card in pending.items():
            table.add_row(
                thread_id, card.order.line(), f"{card.notional:,.0f}",
                ", ".join(card.gate_reasons), str(card.approvals_needed),
                ", ".join(card.approved_by) or "-",
            )  # fmt: skip
        console.print(table)


def _answer(thread_id: str, decision: str, approver: str, reason: str, args: str | None) -> None:
    with session() as desk:
        try:
            edited = json.loads(args) if args else None
            show(desk.answer(thread_id, decision, approver, reason, edited))
        except (ValueError, json.JSONDecodeError) as exc:
            console.print(f"[red]refused:[/] {exc}")
            raise typer.Exit(2) from None


Approver = Annotated[str, typer.Option(help="Who answers (recorded).")]


@approvals.command("approve")
def approve(thread_id: str, approver: Approver, reason: str = "") -> None:
    _answer(thread_id, "approve", approver, reason, None)


@approvals.command("reject")
def reject(thread_id: str, approver: Approver, reason: str = "") -> None:
    _answer(thread_id, "reject", approver, reason, None)


@approvals.command("edit")
def edit(
    thread_id: str,
    approver: Approver,
    args: Annotated[str, typer.Option(help='JSON, e.g. {"quantity": 1.5}')],
    reason: str = "",
) -> None:
    _answer(thread_id, "edit", approver, reason, args)
