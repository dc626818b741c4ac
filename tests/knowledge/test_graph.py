"""The knowledge graph against the real Neo4j: synced from a desk that really ran (real data
loaded, strategies researched and paper-traded, an order approved), queried by the agents'
typed tools, and proof against injection through arguments and Cypher."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j.exceptions import ClientError
from pydantic import ValidationError

from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from knowledge.graph import queries
from knowledge.graph.connection import KnowledgeGraph
from knowledge.graph.nl_cypher import CypherRefusedError, run_read_only
from knowledge.graph.sync import sync_from_store
from tools.ingest.real_datasets import dataset_venues

TRADABLE = ["bitstamp:BTC/USD", "bitstamp:ETH/USD", "nasdaq:GOOG"]


@pytest.fixture(scope="module")
def desk_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    """A store after a real desk session; yields it and the approved order's id."""
    root = tmp_path_factory.mktemp("desk")
    with Store(f"chdb://{root / 'store'}") as store:
        store.migrate()
        with DeskSession(Settings(data_dir=root / "desk"), store) as desk:
            for text in (
                "load data",
                "find a momentum strategy for BTC and paper-trade it",
                "find a momentum strategy for ETH and paper-trade it",
            ):
                desk.ask(text, text)
            paused = desk.ask("buy 3 BTC", "big")
            assert paused.pending, "the order above the threshold should wait for approval"
            desk.answer("big", "approve", "alice", "sized within plan")
            order_id = paused.pending.order.order_id
        yield store, order_id


@pytest.fixture
def synced(graph: KnowledgeGraph, desk_store: tuple[Store, str]) -> KnowledgeGraph:
    sync_from_store(graph, desk_store[0], dataset_venues(), TRADABLE)
    return graph


def test_syncing_twice_changes_nothing(graph: KnowledgeGraph, desk_store: tuple[Store, str]):
    first = sync_from_store(graph, desk_store[0], dataset_venues(), TRADABLE)
    counts = graph.counts()
    assert counts[0] > 50
    assert counts[1] > 100
    again = sync_from_store(graph, desk_store[0], dataset_venues(), TRADABLE)
    assert graph.counts() == counts
    assert again == first
    assert first.strategies == 2
    assert first.decisions >= 3
    assert first.approvals == 1


def test_instruments_on_a_venue(synced: KnowledgeGraph):
    listed = queries.instruments_on_venue(synced, queries.InstrumentsOnVenue(venue="bitstamp"))
    assert {i.symbol for i in listed} == {"BTC/USD", "ETH/USD", "LTC/USD"}
    tradable = queries.instruments_on_venue(
        synced, queries.InstrumentsOnVenue(venue="bitstamp", tradable_only=True)
    )
    assert {i.id for i in tradable} == {"bitstamp:BTC/USD", "bitstamp:ETH/USD"}
    assert all("1d" in i.intervals for i in listed)


def test_strategies_exposed_to_an_asset_directly_and_through_correlation(synced: KnowledgeGraph):
    direct = queries.strategies_exposed_to(synced, queries.StrategiesExposedTo(asset="BTC"))
    assert [(s.instrument, s.via, s.stage) for s in direct] == [
        ("bitstamp:BTC/USD", "direct", "paper")
    ]
    # LTC is traded by no strategy, but moves with BTC and ETH: both strategies are exposed.
    weight = synced.read(
        "MATCH (:Instrument {id: 'bitstamp:LTC/USD'})-[c:CORRELATED_WITH]-"
        "(:Instrument {id: 'bitstamp:BTC/USD'}) RETURN c.weight AS w"
    )[0]["w"]
    through = queries.strategies_exposed_to(
        synced, queries.StrategiesExposedTo(asset="LTC", min_correlation=min(weight, 0.99) - 0.01)
    )
    assert "bitstamp:BTC/USD" in {s.instrument for s in through}
    assert all(s.via.endswith("LTC/USD") and s.correlation >= weight - 0.01 for s in through)
    none = queries.strategies_exposed_to(
        synced, queries.StrategiesExposedTo(asset="LTC", min_correlation=1.0)
    )
    assert none == []


def test_strategies_sharing_a_risk_model(synced: KnowledgeGraph):
    keys = [r["key"] for r in synced.read("MATCH (s:Strategy) RETURN s.key AS key")]
    peers = queries.strategies_sharing_risk_model(
        synced, queries.StrategiesSharingRiskModel(strategy_key=keys[0])
    )
    assert {p.key for p in peers} == {keys[1]}
    assert "pre-trade-gate" in {p.risk_model for p in peers}


def test_correlated_clusters_join_what_moves_together(synced: KnowledgeGraph):
    """The desk ran two strategies: BTC (paper) and ETH (rejected by the judge)."""
    weight = synced.read(
        "MATCH (:Instrument {id: 'bitstamp:BTC/USD'})-[c:CORRELATED_WITH]-"
        "(:Instrument {id: 'bitstamp:ETH/USD'}) RETURN c.weight AS w"
    )[0]["w"]
    both = ["paper", "rejected"]
    joined = queries.correlated_clusters(
        synced, queries.CorrelatedClusters(threshold=weight - 0.01, stages=both)
    )
    assert [c.instruments for c in joined] == [["bitstamp:BTC/USD", "bitstamp:ETH/USD"]]
    assert len(joined[0].strategies) == 2
    split = queries.correlated_clusters(
        synced, queries.CorrelatedClusters(threshold=min(weight + 0.01, 1.0), stages=both)
    )
    assert sorted(len(c.instruments) for c in split) == [1, 1]
    live_only = queries.correlated_clusters(synced, queries.CorrelatedClusters(threshold=0.0))
    assert [c.instruments for c in live_only] == [["bitstamp:BTC/USD"]]


def test_lineage_of_an_approved_order(synced: KnowledgeGraph, desk_store: tuple[Store, str]):
    lineage = queries.decision_lineage(synced, queries.DecisionLineage(order_id=desk_store[1]))
    assert lineage, "the approved order's gate decisions should be in the graph"
    assert {d.verdict for d in lineage} >= {"NEEDS_APPROVAL"}
    assert all(d.requested_by == "execution" for d in lineage)
    approvals = [a for d in lineage for a in d.approvals]
    assert {(a["approver"], a["answer"]) for a in approvals} == {("alice", "approve")}


def test_lineage_of_a_paper_promotion(synced: KnowledgeGraph):
    order = synced.read(
        "MATCH (d:Decision)-[:FOR_STRATEGY]->(:Strategy) RETURN d.order_id AS o LIMIT 1"
    )[0]["o"]
    (one,) = queries.decision_lineage(synced, queries.DecisionLineage(order_id=order))[:1]
    assert one.proposed_by == "research"
    assert one.backtest is not None
    assert float(one.backtest["oos_sharpe"]) == pytest.approx(
        synced.read(
            "MATCH (:Strategy {key: $k})-[:EVALUATED_BY]->(b) RETURN b.oos_sharpe AS s",
            k=one.strategy_key,
        )[0]["s"]
    )
    assert [s["stage"] for s in one.steps] == ["proposed", "scored", "reviewed", "paper"]
    assert [s["actor"] for s in one.steps] == ["research", "judge", "risk", "pm"]


HOSTILE = [
    "bitstamp'}) DETACH DELETE n //",
    'bitstamp"}) MATCH (n) DETACH DELETE n //',
    "x' OR 1=1 //",
    "}) WITH 1 AS x MATCH (n) SET n.pwned = true //",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_injection_through_arguments_does_nothing(synced: KnowledgeGraph, text: str):
    before = synced.counts()
    assert queries.instruments_on_venue(synced, queries.InstrumentsOnVenue(venue=text)) == []
    assert queries.strategies_exposed_to(synced, queries.StrategiesExposedTo(asset=text)) == []
    assert queries.decision_lineage(synced, queries.DecisionLineage(order_id=text)) == []
    assert (
        queries.strategies_sharing_risk_model(
            synced, queries.StrategiesSharingRiskModel(strategy_key=text)
        )
        == []
    )
    assert synced.counts() == before
    assert synced.read("MATCH (n) WHERE n.pwned RETURN count(n) AS c") == [{"c": 0}]


def test_bad_query_arguments_are_refused_before_the_graph():
    with pytest.raises(ValidationError):
        queries.CorrelatedClusters(threshold=1.5)
    with pytest.raises(ValidationError):
        queries.InstrumentsOnVenue(venue="")
    with pytest.raises(ValueError, match="decision_id or an order_id"):
        queries.decision_lineage(None, queries.DecisionLineage())  # type: ignore[arg-type]


WRITES = [
    "MATCH (n) DETACH DELETE n",
    "match (n) delete n",
    "MATCH (n) SET n.x = 1 RETURN n",
    "MERGE (n:Venue {id: 'evil'}) RETURN n",
    "CREATE (n:Hacked) RETURN n",
    "MATCH (n) WITH n CALL { WITH n DETACH DELETE n } RETURN 1",
    "MATCH (n) REMOVE n.id RETURN n",
    "CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DELETE n', {})",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
    "MATCH (n) /* hide */ DETACH /* it */ DELETE n",
    "DROP CONSTRAINT venue_id",
    "MATCH (n) FOREACH (x IN [1] | SET n.y = x)",
]


@pytest.mark.parametrize("cypher", WRITES)
def test_read_only_cypher_refuses_writes(synced: KnowledgeGraph, cypher: str):
    before = synced.counts()
    with pytest.raises(CypherRefusedError):
        run_read_only(synced, cypher)
    assert synced.counts() == before


def test_a_write_that_slips_past_the_text_check_is_refused_by_the_server(synced: KnowledgeGraph):
    before = synced.counts()
    with pytest.raises(ClientError):
        synced.read("CREATE (:Hacked)")
    assert synced.counts() == before


def test_read_only_cypher_answers_reads(synced: KnowledgeGraph):
    rows = run_read_only(
        synced, "MATCH (v:Venue)-[:LISTS]->(i:Instrument) WHERE v.name <> 'DELETE' "
        "RETURN v.id AS venue, count(i) AS n ORDER BY venue"
    )  # fmt: skip
    assert {"venue": "bitstamp", "n": 3} in rows
