"""How agents use the knowledge graph and memory: research remembers its proposals and reads
what it found before, risk sees correlated exposure, the PM explains a decision's lineage.

All of it is advice: when Neo4j or memory is not there, the agents say so and carry on, and
nothing here can place, change or approve an order."""

from __future__ import annotations

import logging

from agents.desk import Desk
from agents.results import Proposal
from knowledge.graph import queries
from knowledge.graph.connection import GraphUnavailableError
from knowledge.memory.embedder import EmbedderUnavailableError
from knowledge.memory.store import MemoryItem, MemoryUnavailableError, Recall
from tools.knowledge_tools import proposal_note

log = logging.getLogger(__name__)
UNAVAILABLE = (GraphUnavailableError, MemoryUnavailableError, EmbedderUnavailableError)
RELEVANT = 0.35  # cosine score below which a remembered note is not worth quoting


def _tradable(desk: Desk) -> list[str]:
    return [i.id for i in desk.limits.instruments]


def remember_proposal(desk: Desk, proposal: Proposal) -> list[str]:
    """Earlier research notes on the proposal's instrument, then this proposal as a new one."""
    instrument = proposal["instrument"]
    try:
        earlier = desk.knowledge.recall(
            Recall(query=f"{proposal['strategy'].get('kind')} strategy on {instrument}",
                   instrument=instrument, limit=3)
        )  # fmt: skip
        text = proposal_note("research", proposal)
        desk.knowledge.remember(
            "research_notes",
            [MemoryItem(text=text, at=desk.now, strategy=proposal.get("key"),
                        instrument=instrument, agent="research", source="research agent")],
        )  # fmt: skip
    except UNAVAILABLE as exc:
        log.info("research memory unavailable: %s", exc)
        return []
    return [m.item.text for m in earlier if m.item.text != text]


def correlated_exposure(desk: Desk, instrument: str, threshold: float = 0.8) -> list[str]:
    """Paper or live strategies on this instrument or one that moves with it."""
    try:
        desk.knowledge.sync(_tradable(desk))
        held = desk.knowledge.correlated_holdings(
            queries.CorrelatedHoldings(instrument=instrument, threshold=threshold)
        )
    except UNAVAILABLE as exc:
        log.info("knowledge graph unavailable: %s", exc)
        return []
    return [f"{h.instrument} ({h.stage} strategy {h.strategy_key}, corr {h.correlation:.2f})"
            for h in held]  # fmt: skip


def explain(desk: Desk, request: str) -> str:
    """The last gate decision, with its lineage from the graph and what memory holds on it."""
    decisions = [e for e in desk.gateway.recent_events if e.get("kind") == "gate.decision"]
    lines = []
    if decisions:
        last = decisions[-1]
        reasons = ", ".join(last.get("reason_codes", [])) or "every check passed"
        lines.append(
            f"Last gate decision: {last['verdict']} for order {last['order_id']} ({reasons})."
        )
    else:
        lines.append("No gate decision yet in this session.")
    try:
        if decisions:
            desk.knowledge.sync(_tradable(desk))
            for d in desk.knowledge.lineage(
                queries.DecisionLineage(order_id=decisions[-1]["order_id"])
            )[-1:]:
                if d.strategy_key:
                    steps = " -> ".join(f"{s['stage']} by {s['actor']}" for s in d.steps)
                    lines.append(
                        f"Strategy {d.strategy_key}, proposed by {d.proposed_by}: {steps}."
                    )
                if d.backtest:
                    lines.append(
                        "Evidence: walk-forward out-of-sample Sharpe "
                        f"{float(d.backtest['oos_sharpe']):.2f}."
                    )
                for a in d.approvals:
                    lines.append(
                        f"Approval: {a['answer']} by {a['approver']} "
                        f"({a['reason'] or 'no reason'})."
                    )
    except UNAVAILABLE as exc:
        lines.append(f"(No lineage: {exc})")
    try:
        desk.knowledge.sync_memory()
        hits = desk.knowledge.recall(Recall(query=request, collection="decisions", limit=1))
        lines += [f"From memory: {h.item.text}" for h in hits if h.score >= RELEVANT]
    except UNAVAILABLE as exc:
        log.info("memory unavailable: %s", exc)
    return " ".join(lines)
