"""`quantdesk eval`: run the behaviour scenarios, print the table, write JSON and HTML;
`quantdesk eval paraphrases` measures a router on the labelled paraphrase set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from interfaces.cli import paraphrase_commands
from interfaces.cli.progress import counted
from interfaces.cli.settings import get_settings

if TYPE_CHECKING:
    pass

console = Console()
# A group whose own callback is the scenario run, so `quantdesk eval [OPTIONS]` runs the
# suite exactly as when `eval` was a single command, and subcommands sit beside it.
app = typer.Typer(no_args_is_help=False)
app.command("paraphrases")(paraphrase_commands.paraphrases)


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    router: Annotated[
        Literal["rules", "llm"], typer.Option(help="Which router the PM uses.")
    ] = "rules",
    record: Annotated[
        bool,
        typer.Option(
            help="Record the LLM's HTTP exchanges: a cassette per scenario, and meta.json."
        ),
    ] = False,
    replay: Annotated[
        bool, typer.Option(help="Replay the cassettes with the settings recorded; no network.")
    ] = False,
    cassettes: Annotated[
        Path | None,
        typer.Option(
            help="Cassette root; they go to <root>/<model>/<router prompt version>/<id>.yaml. "
            "Default: the checkout's tests/cassettes/evals."
        ),
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    only: Annotated[str | None, typer.Option(help="Only scenario ids containing this.")] = None,
    out: Annotated[Path, typer.Option(help="Where the JSON and HTML reports go.")] = Path(
        "evals/out"
    ),
) -> None:
    """Run the eval suite; exit 1 when any scenario fails."""
    if ctx.invoked_subcommand is not None:
        return  # `quantdesk eval paraphrases ...`: the subcommand runs, not the suite
    # The suite runs whole desks: their stack loads here, not for every `quantdesk` command.
    from evals.cassettes import DEFAULT_ROOT, replay_settings
    from evals.report import write_reports
    from evals.scenario import ScenarioError, load_scenarios
    from evals.suite import run_suite
    from graph.routers import pick_router

    settings = get_settings()
    root = cassettes or DEFAULT_ROOT
    mode: Literal["record", "replay"] | None = "record" if record else "replay" if replay else None
    try:
        if mode is not None and router != "llm":
            raise ValueError("--record and --replay are for the LLM router: add --router llm")
        if mode == "replay":
            # The endpoint, model and budgets the cassettes were recorded with (meta.json).
            settings = replay_settings(settings, root)
        scenarios = [
            s for s in load_scenarios()
            if (category is None or s.category == category) and (only is None or only in s.id)
        ]  # fmt: skip
        pick_router(router, settings)  # says how to configure a missing model, before any run
    except (ScenarioError, ValueError) as exc:
        console.print(f"[red]cannot run the evals:[/] {exc}")
        raise typer.Exit(2) from None
    with counted(console, f"evals ({router})", len(scenarios)) as advance:
        suite = run_suite(
            scenarios,
            settings,
            router,
            cassette_mode=mode,
            cassettes=root,
            on_done=lambda result: advance(result.id),
        )
    table = Table(title=f"router {suite.router} {suite.model or ''}", title_justify="left")
    columns = ("category", "passed", "rate", "tokens", "cost (USD)", "model turns", "rules turns",
               "seconds")  # fmt: skip
    for column in columns:
        table.add_column(column)
    for name, row in suite.by_category().items():
        passed = f"{int(row['passed'])}/{int(row['scenarios'])}"
        table.add_row(
            name,
            passed,
            f"{row['pass_rate']:.0%}",
            str(int(row["tokens"])),
            f"{row['cost_usd']:.4f}",
            str(int(row["model_turns"])),
            str(int(row["rules_turns"])),
            f"{row['seconds']:.1f}",
        )
    console.print(table)
    if suite.cassettes:
        console.print(f"cassettes: {suite.cassettes}")
    for result in suite.results:
        if not result.passed:
            failed = "; ".join(f"{c.name}: {c.detail[:160]}" for c in result.checks if not c.passed)
            console.print(f"[red]FAIL[/] {result.id}: {failed}")
    json_path, html_path = write_reports(suite, out)
    console.print(f"{suite.passed}/{len(suite.results)} passed ({suite.pass_rate:.1%}); "
                  f"reports: {json_path}, {html_path}")  # fmt: skip
    if suite.passed != len(suite.results):
        raise typer.Exit(1)
