"""Idempotent upserts: MERGE on each label's key, SET the rest. Rows travel as parameters
(`UNWIND $rows`), never as query text, so no value can change what a query does."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.graph.connection import KnowledgeGraph
from knowledge.graph.nodes import (
    ApprovalRow,
    BacktestRow,
    CorrelationRow,
    DecisionRow,
    GraphRow,
    InstrumentRow,
    LifecycleStepRow,
    RiskModelRow,
    StrategyRow,
    VenueRow,
)


def _rows(rows: Sequence[GraphRow]) -> list[dict[str, object]]:
    return [r.model_dump(mode="python") for r in rows]


def upsert_venues(graph: KnowledgeGraph, rows: Sequence[VenueRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (m:Market {name: r.market})
        MERGE (v:Venue {id: r.id}) SET v.name = r.name, v.market = r.market
        MERGE (v)-[:IN_MARKET]->(m)""",
        rows=_rows(rows),
    )


def upsert_instruments(graph: KnowledgeGraph, rows: Sequence[InstrumentRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (v:Venue {id: r.venue})
        MERGE (i:Instrument {id: r.id})
        SET i.venue = r.venue, i.symbol = r.symbol, i.quote = r.quote,
            i.intervals = r.intervals, i.tradable = r.tradable, i.bars = r.bars
        MERGE (v)-[:LISTS]->(i)
        MERGE (a:Asset {symbol: r.base})
        MERGE (i)-[:OF_ASSET]->(a)""",
        rows=_rows(rows),
    )


def upsert_risk_models(graph: KnowledgeGraph, rows: Sequence[RiskModelRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (m:RiskModel {name: r.name}) SET m.kind = r.kind, m.params = r.params""",
        rows=_rows(rows),
    )


def upsert_strategies(graph: KnowledgeGraph, rows: Sequence[StrategyRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (s:Strategy {key: r.key})
        SET s.kind = r.kind, s.params = r.params, s.stage = r.stage,
            s.gate_strategy = r.gate_strategy
        MERGE (i:Instrument {id: r.instrument})
        MERGE (s)-[:TRADES]->(i)
        MERGE (g:Agent {name: r.proposed_by})
        MERGE (s)-[:PROPOSED_BY]->(g)
        WITH s, r
        UNWIND r.risk_models AS model
        MERGE (m:RiskModel {name: model})
        MERGE (s)-[:USES_RISK_MODEL]->(m)""",
        rows=_rows(rows),
    )


def upsert_backtests(graph: KnowledgeGraph, rows: Sequence[BacktestRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (b:Backtest {id: r.id})
        SET b.oos_sharpe = r.oos_sharpe, b.in_sample_sharpe = r.in_sample_sharpe,
            b.expected_max_drawdown = r.expected_max_drawdown,
            b.expected_volatility = r.expected_volatility, b.trades = r.trades,
            b.folds = r.folds, b.method = r.method
        MERGE (s:Strategy {key: r.strategy_key})
        MERGE (s)-[:EVALUATED_BY]->(b)""",
        rows=_rows(rows),
    )


def upsert_lifecycle(graph: KnowledgeGraph, rows: Sequence[LifecycleStepRow]) -> None:
    """Who moved a strategy to each stage: (:Strategy)-[:STAGE {stage}]->(:Agent)."""
    graph.write(
        """UNWIND $rows AS r
        MERGE (s:Strategy {key: r.strategy_key})
        MERGE (a:Agent {name: r.actor})
        MERGE (s)-[t:STAGE {stage: r.stage}]->(a)
        SET t.reason = r.reason, t.ts = r.ts""",
        rows=_rows(rows),
    )


def upsert_decisions(graph: KnowledgeGraph, rows: Sequence[DecisionRow]) -> None:
    graph.write(
        """UNWIND $rows AS r
        MERGE (d:Decision {id: r.id})
        SET d.kind = r.kind, d.verdict = r.verdict, d.reasons = r.reasons,
            d.order_id = r.order_id, d.strategy_id = r.strategy_id, d.action = r.action,
            d.ts = r.ts
        MERGE (a:Agent {name: r.actor})
        MERGE (d)-[:PROPOSED_BY]->(a)
        WITH d, r WHERE r.strategy_key IS NOT NULL
        MERGE (s:Strategy {key: r.strategy_key})
        MERGE (d)-[:FOR_STRATEGY]->(s)""",
        rows=_rows(rows),
    )


def upsert_approvals(graph: KnowledgeGraph, rows: Sequence[ApprovalRow]) -> None:
    """An approval answers every gate decision on its order."""
    graph.write(
        """UNWIND $rows AS r
        MERGE (p:Approval {id: r.id})
        SET p.order_id = r.order_id, p.approver = r.approver, p.answer = r.answer,
            p.reason = r.reason, p.ts = r.ts
        WITH p, r
        MATCH (d:Decision {order_id: r.order_id})
        MERGE (d)-[:APPROVED_BY]->(p)""",
        rows=_rows(rows),
    )


def upsert_correlations(graph: KnowledgeGraph, rows: Sequence[CorrelationRow]) -> None:
    """One undirected edge per pair, stored from the smaller id to the larger."""
    ordered = [r if r.a < r.b else r.model_copy(update={"a": r.b, "b": r.a}) for r in rows]
    graph.write(
        """UNWIND $rows AS r
        MATCH (a:Instrument {id: r.a})
        MATCH (b:Instrument {id: r.b})
        MERGE (a)-[c:CORRELATED_WITH]->(b)
        SET c.weight = r.weight, c.window_days = r.window_days,
            c.observations = r.observations, c.as_of = r.as_of""",
        rows=_rows(ordered),
    )
