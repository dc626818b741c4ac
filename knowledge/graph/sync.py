"""Bring the graph up to date with the store: venues and instruments from the bars, strategies
and their backtests from the lifecycle, decisions and approvals from the audit log, and
correlations from returns. Every write is a MERGE, so syncing twice changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from core.models.market import Venue
from core.store import Store
from core.store.lifecycle_log import LifecycleLog
from knowledge.graph.connection import KnowledgeGraph
from knowledge.graph.correlations import correlations, daily_closes
from knowledge.graph.nodes import (
    ApprovalRow,
    BacktestRow,
    DecisionRow,
    InstrumentRow,
    LifecycleStepRow,
    RiskModelRow,
    StrategyRow,
    VenueRow,
)
from knowledge.graph.schema import ensure_schema
from knowledge.graph.upserts import (
    upsert_approvals,
    upsert_backtests,
    upsert_correlations,
    upsert_decisions,
    upsert_instruments,
    upsert_lifecycle,
    upsert_risk_models,
    upsert_strategies,
    upsert_venues,
)

GATE_MODEL = RiskModelRow(name="pre-trade-gate", kind="rules", params='{"source": "gate limits"}')
VAR_MODEL = RiskModelRow(
    name="historical-var-es-95", kind="historical", params='{"confidence": 0.95}'
)


@dataclass(frozen=True)
class SyncReport:
    venues: int
    instruments: int
    strategies: int
    decisions: int
    approvals: int
    correlations: int


def _split(instrument_id: str) -> tuple[str, str, str]:
    venue, symbol = instrument_id.split(":", 1)
    base, _, quote = symbol.partition("/")
    return venue, base, quote


def instrument_rows(store: Store, tradable: Iterable[str]) -> list[InstrumentRow]:
    listed = store.client.query(
        "SELECT venue, symbol, groupUniqArray(interval), count() FROM bars GROUP BY venue, symbol"
    ).result_rows
    gate = set(tradable)
    rows = {
        f"{v}:{s}": InstrumentRow(
            id=f"{v}:{s}", venue=str(v), symbol=str(s), base=_split(f"{v}:{s}")[1],
            quote=_split(f"{v}:{s}")[2], intervals=sorted(map(str, i)),
            tradable=f"{v}:{s}" in gate, bars=int(n),
        )
        for v, s, i, n in listed
    }  # fmt: skip
    for instrument_id in gate - rows.keys():
        venue, base, quote = _split(instrument_id)
        symbol = instrument_id.split(":", 1)[1]
        rows[instrument_id] = InstrumentRow(
            id=instrument_id, venue=venue, symbol=symbol, base=base, quote=quote, tradable=True
        )
    return sorted(rows.values(), key=lambda r: r.id)


def venue_rows(instruments: Sequence[InstrumentRow], known: Sequence[Venue]) -> list[VenueRow]:
    named = {v.venue_id: v for v in known}
    out = []
    for venue in sorted({i.venue for i in instruments} | named.keys()):
        v = named.get(venue)
        out.append(
            VenueRow(
                id=venue,
                name=v.name if v else venue,
                market=str(v.asset_class) if v else "unknown",
            )
        )
    return out


def _risk_models(spec: dict[str, Any]) -> list[RiskModelRow]:
    models = [GATE_MODEL, VAR_MODEL]
    if spec.get("kind") == "vol_target":
        params = {k: spec[k] for k in ("target_vol", "window", "max_leverage") if k in spec}
        name = "volatility-target(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
        models.append(RiskModelRow(name=name, kind="volatility-target", params=json.dumps(params)))
    return models


def lifecycle_rows(
    store: Store,
) -> tuple[
    list[StrategyRow], list[BacktestRow], list[RiskModelRow], list[LifecycleStepRow], dict[str, str]
]:
    """Strategies (latest stage), their walk-forward evidence, risk models, each step, and the
    orders their promotions sent (order id -> strategy key)."""
    proposals: dict[str, dict[str, Any]] = {}
    stage: dict[str, str] = {}
    orders: dict[str, str] = {}
    step_rows = []
    for step in LifecycleLog(store).steps():
        key, body = step.strategy_key, step.payload
        stage[key] = step.stage
        if step.stage == "proposed":
            proposals[key] = body
        if "order" in body:
            orders[str(body["order"])] = key
        step_rows.append(
            LifecycleStepRow(
                strategy_key=key, stage=step.stage, actor=step.actor, reason=step.reason, ts=step.ts
            )
        )
    strategies, backtests, models = [], [], {}
    for key, p in proposals.items():
        spec = p.get("strategy", {})
        used = _risk_models(spec)
        models.update({m.name: m for m in used})
        strategies.append(
            StrategyRow(
                key=key, kind=str(spec.get("kind", "unknown")),
                params=json.dumps(spec, sort_keys=True),
                stage=stage[key], instrument=str(p.get("instrument", "")),
                gate_strategy=str((p.get("target") or {}).get("strategy_id", "")),
                risk_models=[m.name for m in used],
            )
        )  # fmt: skip
        if "oos_sharpe" in p:
            backtests.append(
                BacktestRow(
                    id=f"{key}:walk-forward", strategy_key=key,
                    oos_sharpe=float(p["oos_sharpe"]),
                    in_sample_sharpe=float(p.get("in_sample_sharpe", 0.0)),
                    expected_max_drawdown=float(p.get("expected_max_drawdown", 0.0)),
                    expected_volatility=float(p.get("expected_volatility", 0.0)),
                    trades=int(p.get("trades", 0)), folds=int(p.get("folds", 0)),
                )
            )  # fmt: skip
    return strategies, backtests, list(models.values()), step_rows, orders


def audit_rows(store: Store, orders: dict[str, str]) -> tuple[list[DecisionRow], list[ApprovalRow]]:
    events = store.client.query(
        "SELECT toString(event_id), kind, actor, toString(order_id), strategy_id, reason_codes, "
        "payload, ts FROM audit_log WHERE kind IN ('gate.decision', 'approval.answer') ORDER BY ts"
    ).result_rows
    decisions, approvals = [], []
    for event_id, kind, actor, order_id, strategy_id, reasons, payload, ts in events:
        body = json.loads(payload or "{}")
        at = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        if kind == "gate.decision":
            decisions.append(
                DecisionRow(
                    id=event_id, kind=kind, verdict=str(body.get("verdict", "")),
                    reasons=list(reasons), order_id=order_id or "", strategy_id=str(strategy_id),
                    action=str(body.get("action", "")), actor=str(actor), ts=at,
                    strategy_key=orders.get(order_id or ""),
                )
            )  # fmt: skip
        else:
            approvals.append(
                ApprovalRow(
                    id=event_id, order_id=order_id or "", approver=str(body.get("approver", actor)),
                    answer=str(body.get("decision", "")), reason=str(body.get("reason", "")), ts=at,
                )
            )  # fmt: skip
    return decisions, approvals


def sync_from_store(
    graph: KnowledgeGraph,
    store: Store,
    venues: Sequence[Venue] = (),
    tradable: Iterable[str] = (),
    window_days: int = 90,
) -> SyncReport:
    ensure_schema(graph)
    instruments = instrument_rows(store, tradable)
    venue_list = venue_rows(instruments, venues)
    upsert_venues(graph, venue_list)
    upsert_instruments(graph, instruments)
    strategies, backtests, models, steps, orders = lifecycle_rows(store)
    upsert_risk_models(graph, models)
    upsert_strategies(graph, strategies)
    upsert_backtests(graph, backtests)
    upsert_lifecycle(graph, steps)
    decisions, approvals = audit_rows(store, orders)
    upsert_decisions(graph, decisions)
    upsert_approvals(graph, approvals)
    edges = correlations(daily_closes(store), window_days=window_days)
    upsert_correlations(graph, edges)
    return SyncReport(
        venues=len(venue_list), instruments=len(instruments), strategies=len(strategies),
        decisions=len(decisions), approvals=len(approvals), correlations=len(edges),
    )  # fmt: skip
