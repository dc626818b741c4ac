"""`quantdesk eval`: run the behaviour scenarios, print the table, write JSON and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.settings import get_settings
from evals.scenario import ScenarioError, load_scenarios

if TYPE_CHECKING:
    from evals.suite import ScenarioResult

console = Console()


def evaluate(
    router: Annotated[
        Literal["rules", "llm"], typer.Option(help="Which router the PM uses.")
    ] = "rules",
    record: Annotated[
        bool, typer.Option(help="Record the LLM's HTTP exchanges to evals/cassettes.")
    ] = False,
    replay: Annotated[bool, typer.Option(help="Replay recorded exchanges; no network.")] = False,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    only: Annotated[str | None, typer.Option(help="Only scenario ids containing this.")] = None,
    out: Annotated[Path, typer.Option(help="Where the JSON and HTML reports go.")] = Path(
        "evals/out"
    ),
) -> None:
    """Run the eval suite; exit 1 when any scenario fails."""
    # The suite runs whole desks: their stack loads here, not for every `quantdesk` command.
    from evals.report import write_reports
    from evals.suite import run_suite
    from graph.routers import pick_router

    settings = get_settings()
    try:
        scenarios = [
            s for s in load_scenarios()
            if (category is None or s.category == category) and (only is None or only in s.id)
        ]  # fmt: skip
        chosen = pick_router(router, settings)
    except (ScenarioError, ValueError) as exc:
        console.print(f"[red]cannot run the evals:[/] {exc}")
        raise typer.Exit(2) from None
    mode = "record" if record else "replay" if replay else None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task(f"evals ({router})", total=len(scenarios))

        def done(result: ScenarioResult) -> None:
            progress.update(task, advance=1, description=f"{result.id[:40]:<40}")

        suite = run_suite(scenarios, settings, chosen, cassette_mode=mode, on_done=done)
    table = Table(title=f"router {suite.router} {suite.model or ''}", title_justify="left")
    for column in ("category", "passed", "rate", "tokens", "cost (USD)"):
        table.add_column(column)
    for name, row in suite.by_category().items():
        passed = f"{int(row['passed'])}/{int(row['scenarios'])}"
        table.add_row(
            name,
            passed,
            f"{row['pass_rate']:.0%}",
            str(int(row["tokens"])),
            f"{row['cost_usd']:.4f}",
        )
    console.print(table)
    for result in suite.results:
        if not result.passed:
            failed = "; ".join(f"{c.name}: {c.detail[:160]}" for c in result.checks if not c.passed)
            console.print(f"[red]FAIL[/] {result.id}: {failed}")
    json_path, html_path = write_reports(suite, out)
    console.print(f"{suite.passed}/{len(suite.results)} passed ({suite.pass_rate:.1%}); "
                  f"reports: {json_path}, {html_path}")  # fmt: skip
    if suite.passed != len(suite.results):
        raise typer.Exit(1)
