"""`quantdesk services|knowledge|memory`: the local Neo4j server and Kafka broker, the knowledge
graph's queries, and the agents' memory."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from deploy.kafka import launcher as kafka_launcher
from deploy.neo4j import launcher
from interfaces.cli.data_commands import open_store
from interfaces.cli.settings import get_settings
from knowledge.graph.connection import GraphUnavailableError, local_home

if TYPE_CHECKING:
    from pydantic import BaseModel

    from core.settings import Settings
    from knowledge.memory.store import Collection
    from tools.knowledge_tools import KnowledgeTools

console = Console(width=None if Console().is_terminal else 120)
services = typer.Typer(
    help="Local services the desk runs: Neo4j, Kafka, the local model server, SLURM.",
    no_args_is_help=True,
)
knowledge = typer.Typer(help="The knowledge graph: sync and queries.", no_args_is_help=True)
memory = typer.Typer(help="The agents' memory (Qdrant).", no_args_is_help=True)


@services.command("prepare")
def services_prepare() -> None:
    """Check Java 17 and resolve Neo4j's and Kafka's jars from Maven Central (once)."""
    try:
        java = launcher.java_executable()
        with console.status("resolving Neo4j from Maven Central"):
            jars = launcher.prepare().count(":") + 1
    except launcher.Neo4jLaunchError as exc:
        console.print(f"[red]neo4j:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"neo4j {launcher.NEO4J_VERSION}: {jars} jars resolved; java {java}")
    try:
        with console.status("resolving Kafka from Maven Central"):
            jars = kafka_launcher.prepare().count(":") + 1
    except kafka_launcher.KafkaLaunchError as exc:
        console.print(f"[red]kafka:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"kafka {kafka_launcher.KAFKA_VERSION}: {jars} jars resolved")


class ExtraService(StrEnum):
    """Services `services up` starts besides Neo4j when named."""

    llm = "llm"
    slurm = "slurm"


@services.command("up")
def services_up(
    also: Annotated[
        list[ExtraService] | None,
        typer.Argument(
            help="Also start: llm (the local model server), slurm (a one-node SLURM cluster).",
            metavar="[llm] [slurm]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the local Neo4j (Bolt on 127.0.0.1) unless NEO4J_URI points elsewhere, and the
    local Kafka broker unless QUANTDESK_KAFKA_BOOTSTRAP does; `services up llm` serves the local
    model too, `services up slurm` a one-node SLURM cluster for research sweeps."""
    settings = get_settings()
    if settings.neo4j_uri:
        console.print(f"NEO4J_URI is set ({settings.neo4j_uri}); nothing to start")
    else:
        try:
            with console.status("starting Neo4j (first run resolves it from Maven Central)"):
                uri = launcher.start(local_home(settings), port=settings.neo4j_bolt_port)
        except launcher.Neo4jLaunchError as exc:
            console.print(f"[red]neo4j:[/] {exc}")
            raise typer.Exit(2) from None
        console.print(f"neo4j {launcher.NEO4J_VERSION} up at {uri} (home {local_home(settings)})")
    kafka_up(settings)
    if ExtraService.llm in (also or []):
        llm_up(settings)
    if ExtraService.slurm in (also or []):
        from interfaces.cli.slurm_service import slurm_up

        slurm_up(settings, console)


def kafka_up(settings: Settings) -> None:
    """The local Kafka broker, unless the desk streams to another cluster."""
    from tools.stream.topics import local_broker_home

    if settings.kafka_bootstrap:
        console.print(
            f"QUANTDESK_KAFKA_BOOTSTRAP is set ({settings.kafka_bootstrap}); no Kafka started"
        )
        return
    home = local_broker_home(settings)
    try:
        with console.status("starting Kafka (first run resolves it from Maven Central)"):
            bootstrap = kafka_launcher.start(home, port=settings.kafka_port)
    except kafka_launcher.KafkaLaunchError as exc:
        console.print(f"[red]kafka:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"kafka {kafka_launcher.KAFKA_VERSION} up at {bootstrap} (home {home})")


def llm_up(settings: Settings) -> None:
    """The local model server with its defaults; one already running is left as it is."""
    # The model stack loads only when the model server is asked for.
    from core.llm.local_model import LocalModelError
    from core.llm.local_server import LocalServerError, ServeOptions, live_record
    from interfaces.cli.llm_commands import serve_model

    running = live_record(settings.data_dir)
    if running is not None:
        console.print(f"llm: already running (pid {running.pid}) at {running.base_url}")
        return
    try:
        record, took = serve_model(ServeOptions(), settings.data_dir)
    except (LocalModelError, LocalServerError) as exc:
        console.print(f"[red]llm:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"llm: {record.model} up at {record.base_url} (pid {record.pid}, {took:.0f} s)")


@services.command("down")
def services_down() -> None:
    """Stop the local Neo4j and Kafka, and the local model server and SLURM cluster if they
    run."""
    from core.llm.local_server import read_record, stop
    from interfaces.cli.slurm_service import slurm_down
    from tools.stream.topics import local_broker_home

    settings = get_settings()
    stopped = launcher.stop(local_home(settings))
    console.print("neo4j stopped" if stopped else "neo4j was not running")
    stopped = kafka_launcher.stop(local_broker_home(settings))
    console.print("kafka stopped" if stopped else "kafka was not running")
    if read_record(settings.data_dir) is not None:
        llm = stop(settings.data_dir)
        console.print(f"llm stopped (pid {llm.pid})" if llm else "llm was not running")
    slurm_down(settings, console)


@services.command("status")
def services_status() -> None:
    """Where Neo4j, Kafka, the local model server and SLURM are, and whether they run."""
    from core.llm.local_server import live_record
    from interfaces.cli.slurm_service import slurm_status
    from tools.stream.topics import local_broker_home

    settings = get_settings()
    if settings.neo4j_uri:
        console.print(f"neo4j: external, {settings.neo4j_uri}")
    else:
        shown = launcher.status(local_home(settings))
        state = f"running (pid {shown.pid}) at {shown.uri}" if shown.running else "stopped"
        console.print(f"neo4j: {state}; home {shown.home}")
    if settings.kafka_bootstrap:
        console.print(f"kafka: external, {settings.kafka_bootstrap}")
    else:
        broker = kafka_launcher.status(local_broker_home(settings))
        state = f"running (pid {broker.pid}) at {broker.bootstrap}" if broker.running else "stopped"
        console.print(f"kafka: {state}; home {broker.home}")
    slurm_status(settings, console)
    if settings.llm_base_url:
        console.print(f"llm: external, {settings.llm_base_url}")
        return
    llm = live_record(settings.data_dir)
    console.print(
        f"llm: running (pid {llm.pid}) at {llm.base_url}, model {llm.model}"
        if llm
        else "llm: stopped"
    )


@contextmanager
def knowledge_tools(with_store: bool = False) -> Iterator[KnowledgeTools]:
    # Qdrant, the embedder, the LLM client and the query models load when a knowledge
    # command runs.
    from knowledge.memory.store import MemoryUnavailableError
    from tools.knowledge_tools import KnowledgeTools

    settings = get_settings()
    try:
        with ExitStack() as stack:
            store = stack.enter_context(open_store()) if with_store else None
            yield stack.enter_context(KnowledgeTools(settings, store))
    # A refused Cypher query and an invalid query model are ValueErrors too.
    except (GraphUnavailableError, MemoryUnavailableError, ValueError) as exc:
        console.print(f"[red]refused:[/] {exc}")
        raise typer.Exit(2) from None


def table(rows: Sequence[BaseModel] | Sequence[dict[str, Any]], title: str) -> None:
    from pydantic import BaseModel

    data = [r.model_dump() if isinstance(r, BaseModel) else r for r in rows]
    if not data:
        console.print(f"{title}: nothing")
        return
    shown = Table(title=title)
    for column in data[0]:
        shown.add_column(str(column))
    for row in data:
        shown.add_row(
            *(v if isinstance(v, str) else json.dumps(v, default=str) for v in row.values())
        )
    console.print(shown)


def tradable_ids(settings: Settings) -> list[str]:
    """Instruments the gate's limits let the desk trade."""
    from gateway import load_limits
    from gateway.limits import DEFAULT_LIMITS

    return [i.id for i in load_limits(settings.limits_path or DEFAULT_LIMITS).instruments]


@knowledge.command("sync")
def sync() -> None:
    """Bring the graph up to date with the store (idempotent)."""
    with knowledge_tools(with_store=True) as tools:
        report = tools.sync(tradable_ids(get_settings()))
        nodes, rels = tools.graph.counts()
        notes = tools.sync_memory()
    console.print(f"synced: {report}; graph holds {nodes} nodes, {rels} relationships")
    console.print(f"memory: {notes} notes and decisions written (idempotent)")


@knowledge.command("venue")
def venue(venue_id: str, tradable: bool = False) -> None:
    """Instruments a venue lists."""
    from knowledge.graph import queries

    with knowledge_tools() as tools:
        rows = tools.instruments_on_venue(
            queries.InstrumentsOnVenue(venue=venue_id, tradable_only=tradable)
        )
        table(rows, f"instruments on {venue_id}")


@knowledge.command("exposure")
def exposure(
    asset: str,
    min_correlation: Annotated[float | None, typer.Option(help="Also through correlation")] = None,
) -> None:
    """Strategies exposed to an asset, directly or through correlated instruments."""
    from knowledge.graph import queries

    with knowledge_tools() as tools:
        q = queries.StrategiesExposedTo(asset=asset, min_correlation=min_correlation)
        table(tools.strategies_exposed_to(q), f"strategies exposed to {asset}")


@knowledge.command("clusters")
def clusters(threshold: float = 0.8) -> None:
    """Instruments our strategies trade, grouped where they move together."""
    from knowledge.graph import queries

    with knowledge_tools() as tools:
        found = tools.correlated_clusters(queries.CorrelatedClusters(threshold=threshold))
        table(found, f"correlated exposure (|corr| >= {threshold})")


@knowledge.command("lineage")
def lineage(order: str | None = None, decision: str | None = None) -> None:
    """Who proposed, scored, reviewed and approved what stands behind an order."""
    from knowledge.graph import queries

    with knowledge_tools() as tools:
        rows = tools.lineage(queries.DecisionLineage(order_id=order, decision_id=decision))
        if not rows:
            console.print("lineage: no such decision or order")
        for d in rows:
            console.print(
                f"[bold]{d.verdict}[/] {' '.join(d.reasons)} on order {d.order_id} "
                f"(decision {d.decision_id}), requested by {d.requested_by}"
            )
            if d.strategy_key:
                console.print(f"  strategy {d.strategy_key}, proposed by {d.proposed_by}")
            if d.backtest:
                console.print(f"  evidence: {json.dumps(d.backtest)}")
            for step in d.steps:
                console.print(f"  {step['stage']}: {step['actor']} ({step['reason']})")
            for a in d.approvals:
                console.print(f"  approval: {a['answer']} by {a['approver']} ({a['reason']})")


@knowledge.command("cypher")
def cypher(text: str) -> None:
    """Read-only Cypher, or a question in words when an LLM is configured. Writes are refused."""
    with knowledge_tools() as tools:
        table(tools.cypher(text), "result")


@memory.command("recall")
def recall(
    query: str,
    collection: str = "research_notes",
    strategy: str | None = None,
    instrument: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 5,
) -> None:
    """Search the agents' memory, with payload filters."""
    from knowledge.memory.store import Recall

    with knowledge_tools() as tools:
        q = Recall.model_validate(
            {"query": query, "collection": collection, "strategy": strategy,
             "instrument": instrument, "since": since, "until": until, "limit": limit}
        )  # fmt: skip
        hits = tools.recall(q)
        rows = [{"score": round(h.score, 3), **h.item.model_dump(mode="json")} for h in hits]
        table(rows, f"memory: {collection}")


@memory.command("remember")
def remember(
    text: str,
    collection: str = "research_notes",
    strategy: str | None = None,
    instrument: str | None = None,
) -> None:
    """Write a note (idempotent: the same text is kept once)."""
    from knowledge.memory.store import MemoryItem, Recall

    with knowledge_tools() as tools:
        item = MemoryItem.model_validate(
            {"text": text, "at": datetime.now().astimezone(), "strategy": strategy,
             "instrument": instrument, "agent": "human"}
        )  # fmt: skip
        target: Collection = Recall.model_validate(
            {"query": "x", "collection": collection}
        ).collection
        (point,) = tools.remember(target, [item])
        console.print(f"remembered {point} in {collection}")
