"""`quantdesk demo`: the desk's main job on embedded defaults, as far as the desk goes today."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated
from uuid import uuid4

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from deploy.neo4j import launcher
from interfaces.cli import render
from interfaces.cli.data_commands import load_datasets, open_store
from interfaces.cli.desk_commands import CYCLE, show
from interfaces.cli.gateway_commands import gate_walkthrough
from interfaces.cli.knowledge_commands import tradable_ids
from interfaces.cli.settings import get_settings
from knowledge.graph.connection import local_home
from tools.ingest.real_datasets import DATASETS

if TYPE_CHECKING:
    from core.store import Store

# The local model's turns: three requests a user types, then one step of the cycle.
LOCAL_MODEL_TURNS = (
    "what is our exposure?",
    "find a momentum strategy for BTC",
    "show me the positions",
    CYCLE[-1],
)

# Wide enough for the tables when output is piped (CI logs), where Rich assumes 80.
console = Console(width=None if Console().is_terminal else 120)


@contextmanager
def local_neo4j() -> Iterator[None]:
    """The local Neo4j for the demo's agents: started when NEO4J_URI is unset and none runs,
    and stopped again at the end if the demo started it. Without Java the demo goes on."""
    settings = get_settings()
    home = local_home(settings)
    started = False
    if settings.neo4j_uri is None and not launcher.status(home).running:
        try:
            with console.status("starting Neo4j"):
                launcher.start(home, port=settings.neo4j_bolt_port)
            started = True
        except launcher.Neo4jLaunchError as exc:
            console.print(f"[red]neo4j not started; the agents go on without it:[/] {exc}")
    try:
        yield
    finally:
        if started:
            launcher.stop(home)


def knowledge_step(store: Store) -> None:
    """Sync the graph and memory from what the desk just did, and ask them what agents ask."""
    # The graph, Qdrant and the embedder load when the demo reaches them.
    from knowledge.graph import queries
    from knowledge.graph.connection import GraphUnavailableError
    from knowledge.memory.embedder import EmbedderUnavailableError
    from knowledge.memory.store import MemoryUnavailableError, Recall
    from tools.knowledge_tools import KnowledgeTools

    settings = get_settings()
    try:
        with KnowledgeTools(settings, store) as tools:
            report = tools.sync(tradable_ids(settings))
            nodes, rels = tools.graph.counts()
            console.print(f"graph: {report}; {nodes} nodes, {rels} relationships")
            clusters = tools.correlated_clusters(queries.CorrelatedClusters(threshold=0.8))
            for c in clusters:
                console.print(f"correlated exposure: {c.instruments} <- strategies {c.strategies}")
            for e in tools.strategies_exposed_to(
                queries.StrategiesExposedTo(asset="ETH", min_correlation=0.6)
            ):
                console.print(
                    f"exposed to ETH: strategy {e.key} ({e.stage}) on {e.instrument} "
                    f"via {e.via} (corr {e.correlation:.2f})"
                    if e.correlation is not None
                    else f"exposed to ETH: strategy {e.key} ({e.stage}) on {e.instrument}"
                )
            console.print(f"memory: {tools.sync_memory()} notes and decisions written")
            for hit in tools.recall(Recall(query="which bitcoin strategy did research propose?")):
                console.print(f"recall ({hit.score:.2f}): {hit.item.text[:110]}")
    except (GraphUnavailableError, MemoryUnavailableError, EmbedderUnavailableError) as exc:
        console.print(f"[red]knowledge step skipped:[/] {exc}")


def local_model_step(store: Store) -> None:
    """The desk's requests read by the local model (Qwen2.5-Coder 0.5B on llama.cpp), served
    for the demo and stopped after it. Where it cannot run, one line says why."""
    from core.llm import local_server as served
    from core.llm.local_model import LocalModelError
    from graph.routers import pick_router
    from graph.session import DeskSession
    from interfaces.cli.llm_commands import serve_model

    settings = get_settings()
    if importlib.util.find_spec("llama_cpp") is None:
        console.print("local model not run: the `llm` extra is not installed; the rules route")
        return
    running = served.live_record(settings.data_dir)
    try:
        if running is None:
            record, took = serve_model(served.ServeOptions(port=0), settings.data_dir)
            console.print(f"{record.model} served at {record.base_url} in {took:.1f} s")
    except (LocalModelError, served.LocalServerError) as exc:
        reason = str(exc).splitlines()[0]
        console.print(f"local model not run ({escape(reason)}); the rules route instead")
        return
    try:
        # The local server, even where QUANTDESK_LLM_BASE_URL names another endpoint.
        local = served.with_local_model(settings.model_copy(update={"llm_base_url": None}))
        with DeskSession(local, store, router=pick_router("llm", local)) as desk:
            for k, text in enumerate(LOCAL_MODEL_TURNS):
                began = time.monotonic()
                turn = desk.ask(text, f"demo-llm-{uuid4().hex[:6]}-{k}")
                took = time.monotonic() - began
                first = next((a.splitlines()[0] for a in turn.answers if a.strip()), "-")
                path = " -> ".join(turn.trace[-6:])
                console.print(f"[bold]> {escape(text)}[/] [dim]({took:.1f} s; {escape(path)})[/]")
                console.print(f"  routed by {escape(turn.routed_by or '-')}: {escape(first)}")
    finally:
        if running is None:  # a server someone else started keeps running
            served.stop(settings.data_dir)


def demo(
    model: Annotated[
        bool,
        typer.Option(
            "--model/--no-model",
            help="End with the local model reading requests (served for the demo, then "
            "stopped); --no-model ends after the rule router's cycle.",
        ),
    ] = True,
) -> None:
    """Load the bundled real market data through quality control and show what the desk holds."""
    from core.store import MarketDataStore, QualityLog  # the store loads when the demo runs

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
        from graph.session import DeskSession  # the desk's stack loads when the demo needs it

        with local_neo4j():
            with DeskSession(get_settings(), store) as desk:
                for k, step in enumerate(CYCLE):
                    console.print(f"[bold]> {step}[/]")
                    show(desk.ask(step, f"demo-{uuid4().hex[:6]}-{k}"))
            console.print(Rule("6. Knowledge graph (Neo4j) and memory (Qdrant)"))
            knowledge_step(store)
            console.print(Rule("7. The local model reads the requests (llama.cpp, Qwen2.5-Coder)"))
            if model:
                local_model_step(store)
            else:
                console.print("local model not run (--no-model); the rules route")
        console.print(
            Rule("8. Real-time market data: replay -> Kafka -> Bytewax -> ClickHouse -> bus")
        )
        from interfaces.cli.stream_demo import stream_step

        stream_step(store, console)
        console.print(render.counts_table(store.row_counts()))
        console.print(f"store: {store.path or store.dsn}")
