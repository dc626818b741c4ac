"""`quantdesk demo`: the desk's main job on embedded defaults, as far as the desk goes today."""

from __future__ import annotations

from uuid import uuid4

from rich.console import Console
from rich.rule import Rule

from core.settings import get_settings
from core.store import MarketDataStore, QualityLog
from graph.session import DeskSession
from interfaces.cli import render
from interfaces.cli.data_commands import load_datasets, open_store
from interfaces.cli.desk_commands import CYCLE, show
from interfaces.cli.gateway_commands import gate_walkthrough
from tools.ingest.real_datasets import DATASETS

# Wide enough for the tables when output is piped (CI logs), where Rich assumes 80.
console = Console(width=None if Console().is_terminal else 120)


def demo() -> None:
    """Load the bundled real market data through quality control and show what the desk holds."""
    with open_store() as store:
        console.print(Rule("1. Ingest real market data (quality-controlled, idempotent)"))
        reports = load_datasets(store, list(DATASETS))
        console.print(render.load_table(reports))
        console.print(Rule("2. Quality report"))
        log = QualityLog(store)
        console.print(render.findings_table(log.events()))
        console.print(render.quarantine_table(log.quarantined(), limit=8))
        console.print(Rule("3. What the desk holds"))
        console.print(render.series_table(MarketDataStore(store).series()))
        console.print(Rule("4. Pre-trade gate (Rust) on the paper venue"))
        gate_walkthrough(store)
        console.print(Rule("5. One autonomous cycle of the PM graph (rule router, no LLM)"))
        with DeskSession(get_settings(), store) as desk:
            for k, step in enumerate(CYCLE):
                console.print(f"[bold]> {step}[/]")
                show(desk.ask(step, f"demo-{uuid4().hex[:6]}-{k}"))
        console.print(render.counts_table(store.row_counts()))
        console.print(f"store: {store.path or store.dsn}")
