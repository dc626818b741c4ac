"""`quantdesk eval paraphrases`: measure a router on the labelled paraphrase set, print the
per-family table, the misses and every unsafe outcome, and write JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interfaces.cli.progress import counted

if TYPE_CHECKING:
    from evals.paraphrase import Outcome, ParaphraseReport

console = Console()


def _table(report: ParaphraseReport) -> Table:
    table = Table(title=f"router {report.router} {report.model or ''}", title_justify="left")
    for column in ("family", "items", "correct", "accuracy", "unsafe"):
        table.add_column(column, justify="left" if column == "family" else "right")
    for name, row in sorted(report.by_family().items()):
        unsafe = f"[red]{row.unsafe}[/]" if row.unsafe else "0"
        table.add_row(name, str(row.items), str(row.correct), f"{row.accuracy:.0%}", unsafe)
    return table


def _line(outcome: Outcome, why: list[str]) -> str:
    # Request texts carry brackets ("[INST]"): escaped, or Rich would read them as markup.
    return (
        f"{outcome.id} {escape(repr(outcome.text)[:90])} -> {outcome.kind}: "
        f"{escape('; '.join(why))} [dim]({escape(outcome.routed_by[:80])})[/]"
    )


def paraphrases(
    router: Annotated[
        Literal["rules", "llm"], typer.Option(help="Which router reads the requests.")
    ] = "rules",
    family: Annotated[str | None, typer.Option(help="Only this family.")] = None,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="The same as --set held-out (evals/paraphrases_heldout.yaml).",
        ),
    ] = False,
    which: Annotated[
        Literal[
            "main",
            "held-out",
            "held-out-2",
            "held-out-3",
            "held-out-4",
            "held-out-5",
            "held-out-6",
            "held-out-7",
            "held-out-8",
            "held-out-9",
            "held-out-10",
            "held-out-11",
            "held-out-12",
            "held-out-13",
            "held-out-14",
            "held-out-15",
            "held-out-16",
            "held-out-17",
            "held-out-18",
            "held-out-19",
        ],
        typer.Option(
            "--set",
            help="Which set: main (evals/paraphrases.yaml, the rules were fitted to it), "
            "held-out, held-out-2 and held-out-3 (blind sets, since worked on; the rules' kind "
            "reader learns from all four), held-out-4 to -19 (blind when first measured, "
            "worked on since; the kind reader never learns from them).",
        ),
    ] = "main",
    out: Annotated[
        Path,
        typer.Option(help="Folder for the JSON report (paraphrases-<router>[-<family>].json)."),
    ] = Path("evals/out"),
) -> None:
    """Measure a router on the labelled paraphrases; exit 1 on any unsafe outcome."""
    # The routers (and for `llm` the model client) load here, not for every command.
    from core.settings import get_settings
    from evals.paraphrase import measure
    from evals.paraphrase_set import SETS, ParaphraseSetError, load_paraphrases
    from graph.routers import pick_router

    which = "held-out" if held_out else which
    try:
        items = load_paraphrases(SETS[which], family=family)
        chosen = pick_router(router, get_settings())
    except (ParaphraseSetError, ValueError) as exc:
        console.print(f"[red]cannot run the paraphrase eval:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    with counted(console, f"paraphrases ({router})", len(items)) as advance:
        report = measure(chosen, items, on_done=lambda outcome: advance(outcome.id))
    console.print(_table(report))
    for outcome in report.misses:
        console.print(f"[yellow]MISS[/] {_line(outcome, outcome.misses)}")
    for outcome in report.unsafe:
        console.print(f"[red bold]UNSAFE[/] {_line(outcome, outcome.unsafe)}")
    out.mkdir(parents=True, exist_ok=True)
    # A one-family run gets its own file: it must not overwrite the whole set's report.
    name = f"paraphrases{'' if which == 'main' else '-' + which.replace('-', '')}-{router}"
    path = out / f"{name}{f'-{family}' if family else ''}.json"
    path.write_text(report.to_json(), encoding="utf-8")
    deciders = ", ".join(f"{who}: {n}" for who, n in sorted(report.deciders().items()))
    tokens = f"; tokens {report.tokens}" if report.tokens is not None else ""
    console.print(
        f"{report.correct}/{len(report.outcomes)} correct ({report.accuracy:.1%}), "
        f"{len(report.unsafe)} unsafe; decided by {deciders}{tokens}; "
        f"p50 {report.seconds(0.5) * 1000:.1f} ms, p95 {report.seconds(0.95) * 1000:.1f} ms "
        f"per request; report: {path}"
    )
    if report.unsafe:
        raise typer.Exit(1)
