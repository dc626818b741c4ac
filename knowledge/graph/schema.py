"""Constraints and indexes: every node label has a unique key, so every upsert is a MERGE on it."""

from __future__ import annotations

from knowledge.graph.connection import KnowledgeGraph

KEYS: dict[str, str] = {
    "Market": "name",
    "Venue": "id",
    "Instrument": "id",
    "Asset": "symbol",
    "Strategy": "key",
    "RiskModel": "name",
    "Backtest": "id",
    "Agent": "name",
    "Decision": "id",
    "Approval": "id",
}
INDEXES: list[tuple[str, str]] = [
    ("Strategy", "stage"),
    ("Decision", "order_id"),
    ("Decision", "ts"),
    ("Instrument", "symbol"),
]


def ensure_schema(graph: KnowledgeGraph) -> None:
    """Create what is missing; running it again changes nothing."""
    for label, key in KEYS.items():
        graph.write(
            f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        )
    for label, prop in INDEXES:
        graph.write(
            f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
        )
    graph.write(
        "CREATE INDEX correlated_weight IF NOT EXISTS FOR ()-[r:CORRELATED_WITH]-() ON (r.weight)"
    )
