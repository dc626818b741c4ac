"""One real Neo4j 5.26 server for the knowledge tests, started from deploy/neo4j on a free
loopback port under the session's temp dir, and stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from deploy.neo4j import launcher
from knowledge.graph.connection import KnowledgeGraph
from tests.fakes.loopback import free_port


@pytest.fixture(scope="session")
def neo4j_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    data_dir = tmp_path_factory.mktemp("neo4j-desk")
    port = free_port()
    launcher.start(data_dir / "neo4j", port=port)
    yield data_dir, port
    launcher.stop(data_dir / "neo4j")


@pytest.fixture(scope="session")
def graph_settings(neo4j_data_dir: tuple[Path, int]) -> Settings:
    data_dir, port = neo4j_data_dir
    return Settings(data_dir=data_dir, neo4j_bolt_port=port)


@pytest.fixture
def graph(graph_settings: Settings) -> Iterator[KnowledgeGraph]:
    with KnowledgeGraph.connect(graph_settings) as opened:
        opened.write("MATCH (n) DETACH DELETE n")
        yield opened
