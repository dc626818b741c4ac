"""The agents with the knowledge graph and memory in reach: research reads and writes its
notes, risk sees correlated exposure, the PM explains a decision's lineage. The real Neo4j is
the session's, reached by NEO4J_URI."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from core.settings import Settings
from core.store import Store
from deploy.neo4j import launcher
from graph.session import DeskSession
from knowledge.graph.connection import KnowledgeGraph


def desk_settings(tmp_path: Path, neo4j_data_dir: tuple[Path, int]) -> Settings:
    data_dir, port = neo4j_data_dir
    secret = launcher.password((data_dir / "neo4j").resolve())
    return Settings(
        data_dir=tmp_path / "desk", neo4j_uri=f"bolt://127.0.0.1:{port}",
        neo4j_password=SecretStr(secret),
    )  # fmt: skip


def test_agents_use_graph_and_memory(
    store: Store, tmp_path: Path, neo4j_data_dir: tuple[Path, int], graph: KnowledgeGraph
):
    settings = desk_settings(tmp_path, neo4j_data_dir)
    with DeskSession(settings, store) as desk:
        desk.ask("load data", "t0")
        first = desk.ask("find a mean reversion strategy for BTC", "t1")
        assert not any("memory holds" in a for a in first.answers)
        paper = desk.ask("find a momentum strategy for BTC and paper-trade it", "t2")
        assert any("filled" in a for a in paper.answers)
        research = next(a for a in paper.answers if "out-of-sample" in a)
        assert "memory holds 1 earlier note" in research
        again = desk.ask("find a breakout strategy for BTC", "t3")
        # The BTC strategy is now on paper, so risk sees the new proposal add to it.
        review = next(a for a in again.answers if "proposal" in a)
        assert "adds to correlated exposure: bitstamp:BTC/USD (paper strategy" in review
        why = desk.ask("explain the last decision", "t4").answers[-1]
    assert "Last gate decision: ACCEPT" in why
    assert "proposed by research: proposed by research -> scored by judge" in why
    assert "paper by pm" in why
    assert "walk-forward out-of-sample Sharpe" in why
    assert graph.read("MATCH (s:Strategy {stage: 'paper'}) RETURN count(s) AS c") == [{"c": 1}]


def test_agents_carry_on_without_the_graph(store: Store, tmp_path: Path):
    with DeskSession(Settings(data_dir=tmp_path / "desk"), store) as desk:
        desk.ask("load data", "t0")
        desk.ask("buy 0.5 BTC", "t1")
        why = desk.ask("why?", "t2").answers[-1]
    assert "Last gate decision: ACCEPT" in why
    assert "No lineage: No Neo4j configured" in why
