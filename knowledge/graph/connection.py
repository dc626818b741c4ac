"""One connection to the knowledge graph: the local server under data_dir, or `NEO4J_URI`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.closing import Closing

# The driver loads when the graph is opened, not when the desk or the CLI starts.
if TYPE_CHECKING:
    from neo4j import Driver, RoutingControl

    from core.settings import Settings


class GraphUnavailableError(RuntimeError):
    """No Neo4j to talk to: neither NEO4J_URI nor a local server started under data_dir."""


def local_home(settings: Settings) -> Path:
    """Where `quantdesk services up` keeps the local server (config, data, logs, password)."""
    return (settings.data_dir / "neo4j").resolve()


def connection_params(settings: Settings) -> tuple[str, tuple[str, str]]:
    """The Bolt URI and credentials the desk uses."""
    if settings.neo4j_uri is not None:
        secret = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        return settings.neo4j_uri, (settings.neo4j_user, secret)
    password_file = local_home(settings) / "password"
    if not password_file.exists():
        raise GraphUnavailableError(
            "No Neo4j configured: run `quantdesk services up` to start the local server, "
            "or set NEO4J_URI (and NEO4J_USER / NEO4J_PASSWORD)."
        )
    uri = f"bolt://127.0.0.1:{settings.neo4j_bolt_port}"
    return uri, ("neo4j", password_file.read_text().strip())


class KnowledgeGraph(Closing):
    """A driver with two doors: `write` for the desk's own upserts, `read` for everything an
    agent asks, run as a READ transaction so the server itself refuses writes."""

    def __init__(self, driver: Driver, database: str | None = None) -> None:
        self.driver = driver
        self.database = database

    @classmethod
    def connect(cls, settings: Settings) -> KnowledgeGraph:
        from neo4j import GraphDatabase

        uri, auth = connection_params(settings)
        # Server notifications (e.g. "relationship type does not exist yet" on a fresh graph)
        # are advice for humans writing queries, not events for the desk's logs.
        driver = GraphDatabase.driver(
            uri, auth=auth, connection_timeout=10.0, notifications_min_severity="OFF"
        )
        try:
            driver.verify_connectivity()
        except Exception as exc:
            driver.close()
            raise GraphUnavailableError(f"Neo4j at {uri} does not answer: {exc}") from exc
        return cls(driver)

    def _run(
        self, query: str, routing: RoutingControl, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        records, _, _ = self.driver.execute_query(
            query, params, routing_=routing, database_=self.database
        )
        return [r.data() for r in records]

    def write(self, query: str, **params: Any) -> list[dict[str, Any]]:
        from neo4j import RoutingControl

        return self._run(query, RoutingControl.WRITE, params)

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        from neo4j import RoutingControl

        return self._run(query, RoutingControl.READ, params)

    def counts(self) -> tuple[int, int]:
        """(nodes, relationships): what an idempotent sync must leave unchanged."""
        nodes = self.read("MATCH (n) RETURN count(n) AS c")[0]["c"]
        rels = self.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
        return int(nodes), int(rels)

    def close(self) -> None:
        self.driver.close()
