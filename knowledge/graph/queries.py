"""The agents' questions to the graph, as typed, parameterised queries. Values travel only as
parameters, so quotes or Cypher in an argument are just text that matches nothing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from knowledge.graph.connection import KnowledgeGraph

Name = Field(min_length=1, max_length=200)


class Query(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstrumentsOnVenue(Query):
    venue: str = Name
    tradable_only: bool = False


class StrategiesExposedTo(Query):
    asset: str = Name
    min_correlation: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Also count instruments correlated with the asset's at least this much",
    )  # fmt: skip


class StrategiesSharingRiskModel(Query):
    strategy_key: str = Name


class CorrelatedClusters(Query):
    threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    stages: list[str] = Field(default_factory=lambda: ["paper", "live"], max_length=10)


class DecisionLineage(Query):
    decision_id: str | None = Field(default=None, min_length=1, max_length=100)
    order_id: str | None = Field(default=None, min_length=1, max_length=100)


class InstrumentInfo(BaseModel):
    id: str
    symbol: str
    tradable: bool
    intervals: list[str]


class StrategyExposure(BaseModel):
    key: str
    kind: str
    stage: str
    instrument: str
    via: str = Field(description="'direct' or the correlated instrument's id")
    correlation: float | None = None


class RiskModelPeer(BaseModel):
    key: str
    kind: str
    stage: str
    risk_model: str


class Cluster(BaseModel):
    instruments: list[str]
    strategies: list[str]
    min_weight: float


class Lineage(BaseModel):
    decision_id: str
    order_id: str
    verdict: str
    reasons: list[str]
    requested_by: str
    strategy_key: str | None
    proposed_by: str | None
    backtest: dict[str, float | int | str] | None
    steps: list[dict[str, str]]
    approvals: list[dict[str, str]]


def instruments_on_venue(graph: KnowledgeGraph, q: InstrumentsOnVenue) -> list[InstrumentInfo]:
    rows = graph.read(
        """MATCH (:Venue {id: $venue})-[:LISTS]->(i:Instrument)
        WHERE NOT $tradable_only OR i.tradable
        RETURN i.id AS id, i.symbol AS symbol, coalesce(i.tradable, false) AS tradable,
               coalesce(i.intervals, []) AS intervals ORDER BY i.id""",
        venue=q.venue, tradable_only=q.tradable_only,
    )  # fmt: skip
    return [InstrumentInfo(**r) for r in rows]


def strategies_exposed_to(graph: KnowledgeGraph, q: StrategiesExposedTo) -> list[StrategyExposure]:
    rows = graph.read(
        """MATCH (:Asset {symbol: $asset})<-[:OF_ASSET]-(i:Instrument)<-[:TRADES]-(s:Strategy)
        RETURN s.key AS key, s.kind AS kind, s.stage AS stage, i.id AS instrument,
               'direct' AS via, null AS correlation""",
        asset=q.asset,
    )
    if q.min_correlation is not None:
        rows += graph.read(
            """MATCH (:Asset {symbol: $asset})<-[:OF_ASSET]-(i:Instrument)
                  -[c:CORRELATED_WITH]-(j:Instrument)<-[:TRADES]-(s:Strategy)
            WHERE abs(c.weight) >= $min AND NOT (j)-[:OF_ASSET]->(:Asset {symbol: $asset})
            WITH s, j, max(abs(c.weight)) AS w, head(collect(i.id)) AS via
            RETURN s.key AS key, s.kind AS kind, s.stage AS stage, j.id AS instrument,
                   via, w AS correlation""",
            asset=q.asset, min=q.min_correlation,
        )  # fmt: skip
    return [StrategyExposure(**r) for r in sorted(rows, key=lambda r: (r["key"], r["via"]))]


def strategies_sharing_risk_model(
    graph: KnowledgeGraph, q: StrategiesSharingRiskModel
) -> list[RiskModelPeer]:
    rows = graph.read(
        """MATCH (:Strategy {key: $key})-[:USES_RISK_MODEL]->(m:RiskModel)
              <-[:USES_RISK_MODEL]-(s:Strategy)
        WHERE s.key <> $key
        RETURN s.key AS key, s.kind AS kind, s.stage AS stage, m.name AS risk_model
        ORDER BY m.name, s.key""",
        key=q.strategy_key,
    )
    return [RiskModelPeer(**r) for r in rows]


def correlated_clusters(graph: KnowledgeGraph, q: CorrelatedClusters) -> list[Cluster]:
    """Groups of the instruments our strategies (in `stages`) trade, joined wherever two are
    correlated at least `threshold` in absolute value: exposure that moves together."""
    held = graph.read(
        """MATCH (s:Strategy)-[:TRADES]->(i:Instrument) WHERE s.stage IN $stages
        RETURN i.id AS id, collect(s.key) AS strategies""",
        stages=q.stages,
    )
    by_id = {r["id"]: r["strategies"] for r in held}
    edges = graph.read(
        """MATCH (a:Instrument)-[c:CORRELATED_WITH]->(b:Instrument)
        WHERE a.id IN $ids AND b.id IN $ids AND abs(c.weight) >= $threshold
        RETURN a.id AS a, b.id AS b, abs(c.weight) AS w""",
        ids=list(by_id), threshold=q.threshold,
    )  # fmt: skip
    parent = {i: i for i in by_id}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for e in edges:
        parent[root(e["a"])] = root(e["b"])
    groups: dict[str, list[str]] = {}
    for i in by_id:
        groups.setdefault(root(i), []).append(i)
    clusters = []
    for members in groups.values():
        weights = [e["w"] for e in edges if e["a"] in members]
        clusters.append(
            Cluster(
                instruments=sorted(members),
                strategies=sorted({s for m in members for s in by_id[m]}),
                min_weight=min(weights) if weights else 1.0,
            )
        )
    return sorted(clusters, key=lambda c: (-len(c.instruments), c.instruments))


def decision_lineage(graph: KnowledgeGraph, q: DecisionLineage) -> list[Lineage]:
    """Who asked for the order, which strategy and backtest stand behind it, who moved the
    strategy through its stages, and who approved."""
    if q.decision_id is None and q.order_id is None:
        raise ValueError("give a decision_id or an order_id")
    rows = graph.read(
        """MATCH (d:Decision)
        WHERE ($id IS NOT NULL AND d.id = $id) OR ($order IS NOT NULL AND d.order_id = $order)
        OPTIONAL MATCH (d)-[:PROPOSED_BY]->(asker:Agent)
        OPTIONAL MATCH (d)-[:FOR_STRATEGY]->(s:Strategy)
        OPTIONAL MATCH (s)-[:PROPOSED_BY]->(author:Agent)
        OPTIONAL MATCH (s)-[:EVALUATED_BY]->(b:Backtest)
        OPTIONAL MATCH (d)-[:APPROVED_BY]->(p:Approval)
        WITH d, asker, s, author, b, collect(p {.approver, .answer, .reason}) AS approvals
        OPTIONAL MATCH (s)-[t:STAGE]->(who:Agent)
        WITH d, asker, s, author, b, approvals, t, who ORDER BY t.ts
        RETURN d.id AS decision_id, d.order_id AS order_id, d.verdict AS verdict,
               d.reasons AS reasons, asker.name AS requested_by, s.key AS strategy_key,
               author.name AS proposed_by,
               b {.id, .oos_sharpe, .in_sample_sharpe, .expected_max_drawdown, .trades} AS backtest,
               [x IN collect(CASE WHEN t IS NULL THEN null
                    ELSE {stage: t.stage, actor: who.name, reason: t.reason} END)
                WHERE x IS NOT NULL] AS steps,
               approvals, d.ts AS ts
        ORDER BY ts""",
        id=q.decision_id, order=q.order_id,
    )  # fmt: skip
    return [Lineage(**r) for r in rows]


class CorrelatedHoldings(Query):
    instrument: str = Name
    threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    stages: list[str] = Field(default_factory=lambda: ["paper", "live"], max_length=10)


class Holding(BaseModel):
    instrument: str
    strategy_key: str
    stage: str
    correlation: float


def correlated_holdings(graph: KnowledgeGraph, q: CorrelatedHoldings) -> list[Holding]:
    """Strategies in `stages` on the instrument itself or on one correlated with it at least
    `threshold`: what a new position there would add to."""
    rows = graph.read(
        """MATCH (i:Instrument {id: $instrument})
        OPTIONAL MATCH (i)-[c:CORRELATED_WITH]-(j:Instrument) WHERE abs(c.weight) >= $threshold
        WITH i, collect({inst: j, w: c.weight}) + [{inst: i, w: 1.0}] AS near
        UNWIND near AS n
        MATCH (s:Strategy)-[:TRADES]->(x:Instrument) WHERE x = n.inst AND s.stage IN $stages
        RETURN x.id AS instrument, s.key AS strategy_key, s.stage AS stage,
               n.w AS correlation ORDER BY abs(n.w) DESC, s.key""",
        instrument=q.instrument, threshold=q.threshold, stages=q.stages,
    )  # fmt: skip
    return [Holding(**r) for r in rows]
