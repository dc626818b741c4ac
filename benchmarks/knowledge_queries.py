"""Latency of the agents' typical knowledge-graph queries against a real Neo4j 5.26 (started
here on loopback), over a graph synced from a desk that really ran on the bundled data.

Run: uv run python -m benchmarks.knowledge_queries
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.timing import free_port, timed
from core.settings import Settings
from core.store import Store
from deploy.neo4j import launcher
from graph.session import DeskSession
from knowledge.graph import queries
from knowledge.graph.connection import KnowledgeGraph, local_home
from knowledge.graph.nl_cypher import run_read_only
from knowledge.graph.sync import sync_from_store
from tools.ingest.real_datasets import dataset_venues

TRADABLE = ["bitstamp:BTC/USD", "bitstamp:ETH/USD", "nasdaq:GOOG"]
RUNS = 500
REQUESTS = (
    "load data",
    "find a momentum strategy for BTC and paper-trade it",
    "find a momentum strategy for ETH and paper-trade it",
    "buy 0.5 BTC",
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "desk", neo4j_bolt_port=free_port())
        start = time.perf_counter()
        launcher.start(local_home(settings), port=settings.neo4j_bolt_port)
        print(f"neo4j {launcher.NEO4J_VERSION} ready in {time.perf_counter() - start:.1f} s")
        try:
            with Store(f"chdb://{root / 'store'}") as store:
                store.migrate()
                with DeskSession(settings, store) as desk:
                    for text in (
                        "load data",
                        "find a momentum strategy for BTC and paper-trade it",
                        "find a momentum strategy for ETH and paper-trade it",
                        "buy 0.5 BTC",
                    ):
                        desk.ask(text, text)  # fmt: skip
                with KnowledgeGraph.connect(settings) as graph:
                    start = time.perf_counter()
                    report = sync_from_store(graph, store, dataset_venues(), TRADABLE)
                    first = time.perf_counter() - start
                    start = time.perf_counter()
                    sync_from_store(graph, store, dataset_venues(), TRADABLE)
                    again = time.perf_counter() - start
                    nodes, rels = graph.counts()
                    print(f"sync: {report}; {nodes} nodes, {rels} relationships")
                    print(
                        f"sync first {first * 1e3:.0f} ms, again (no change) {again * 1e3:.0f} ms"
                    )
                    order = graph.read("MATCH (d:Decision) RETURN d.order_id AS o LIMIT 1")[0]["o"]
                    key = graph.read("MATCH (s:Strategy) RETURN s.key AS k LIMIT 1")[0]["k"]
                    q = queries
                    both = ["paper", "rejected"]
                    cases: dict[str, Callable[[], object]] = {
                        "instruments on a venue": lambda: q.instruments_on_venue(
                            graph, q.InstrumentsOnVenue(venue="bitstamp")),
                        "strategies exposed to an asset (direct)": lambda: q.strategies_exposed_to(
                            graph, q.StrategiesExposedTo(asset="BTC")),
                        "... and through correlation >= 0.6": lambda: q.strategies_exposed_to(
                            graph, q.StrategiesExposedTo(asset="ETH", min_correlation=0.6)),
                        "strategies sharing a risk model": lambda: q.strategies_sharing_risk_model(
                            graph, q.StrategiesSharingRiskModel(strategy_key=key)),
                        "correlated exposure clusters": lambda: q.correlated_clusters(
                            graph, q.CorrelatedClusters(threshold=0.5, stages=both)),
                        "lineage of an order": lambda: q.decision_lineage(
                            graph, q.DecisionLineage(order_id=order)),
                        "read-only Cypher (checked)": lambda: run_read_only(
                            graph, "MATCH (v:Venue)-[:LISTS]->(i) RETURN v.id, count(i)"),
                    }  # fmt: skip
                    print(f"{'query':45s} {'p50 ms':>8s} {'p99 ms':>8s}   ({RUNS} runs each)")
                    for name, fn in cases.items():
                        p50, p99 = timed(fn, RUNS, warmup=20)
                        print(f"{name:45s} {p50:8.2f} {p99:8.2f}")
        finally:
            launcher.stop(local_home(settings))


if __name__ == "__main__":
    main()
