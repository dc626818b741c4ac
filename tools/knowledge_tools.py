"""The agents' knowledge tools: the graph's typed queries, read-only Cypher from a question
(with an LLM when one is configured), and memory recall. Graph and memory open lazily, so a
desk without Neo4j or the memory extra still runs; the error then says what is missing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from langchain_core.messages import HumanMessage, SystemMessage

import prompts
from core.closing import Closing
from core.llm.budget import TokenBudget
from core.llm.client import chat_model
from core.settings import Settings
from core.store import Store
from core.store.lifecycle_log import LifecycleLog
from knowledge.graph import nl_cypher, queries
from knowledge.graph.connection import KnowledgeGraph
from knowledge.graph.nl_cypher import CypherProposal
from knowledge.graph.sync import SyncReport, sync_from_store
from knowledge.memory.store import (
    Collection,
    Memory,
    MemoryItem,
    MemoryStore,
    MemoryUnavailableError,
    Recall,
)
from tools.ingest.real_datasets import dataset_venues


def proposal_note(actor: str, proposal: Mapping[str, Any]) -> str:
    """The research note a proposal leaves in memory (one text, so one point, however often
    it is written)."""
    spec = proposal.get("strategy", {})
    return (
        f"{actor} proposed {spec.get('kind')} on {proposal.get('instrument')} "
        f"({json.dumps(spec, sort_keys=True)}): out-of-sample Sharpe "
        f"{proposal.get('oos_sharpe', 0):.2f} vs in-sample "
        f"{proposal.get('in_sample_sharpe', 0):.2f}, "
        f"expected drawdown {proposal.get('expected_max_drawdown', 0):.0%}, "
        f"volatility {proposal.get('expected_volatility', 0):.0%}"
    )


class LlmCypherModel:
    """Asks the configured OpenAI-compatible model for a `CypherProposal` (function calling)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version, self.prompt = prompts.load("cypher")
        self.budget = TokenBudget(settings.llm_token_budget, settings.llm_model, self.version)

    def propose(self, question: str, schema: str) -> object:
        model = chat_model(
            self.settings, session_id=uuid4().hex, path="/pm/cypher",
            properties={"prompt-version": self.version, "agent": "pm"},
            callbacks=[self.budget], max_tokens=512,
        )  # fmt: skip
        structured = model.with_structured_output(CypherProposal, method="function_calling")
        messages = [SystemMessage(f"{self.prompt}\n{schema}"), HumanMessage(question)]
        return structured.invoke(messages)


class KnowledgeTools(Closing):
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store
        self._graph: KnowledgeGraph | None = None
        self._memory: MemoryStore | None = None

    @property
    def graph(self) -> KnowledgeGraph:
        if self._graph is None:
            self._graph = KnowledgeGraph.connect(self.settings)
        return self._graph

    @property
    def memory(self) -> MemoryStore:
        if not self.settings.memory_enabled:
            raise MemoryUnavailableError("memory is off in this run (memory_enabled)")
        if self._memory is None:
            self._memory = MemoryStore.open(self.settings)
        return self._memory

    def sync(self, tradable: list[str] | None = None) -> SyncReport:
        if self.store is None:
            raise ValueError("syncing needs the store")
        return sync_from_store(self.graph, self.store, dataset_venues(), tradable or [])

    def sync_memory(self) -> int:
        """Write the lifecycle's proposals as research notes and its verdicts and the humans'
        approval answers as decisions (idempotent: one point per text)."""
        if self.store is None:
            raise ValueError("syncing needs the store")
        notes: dict[Collection, list[MemoryItem]] = {"research_notes": [], "decisions": []}
        for step in LifecycleLog(self.store).steps():
            key, stage, actor, body = step.strategy_key, step.stage, step.actor, step.payload
            if stage == "proposed":
                text = proposal_note(actor, body)
                collection: Collection = "research_notes"
            else:
                text = f"{actor} moved strategy {key} to {stage}: {step.reason}"
                collection = "decisions"
            notes[collection].append(
                MemoryItem(text=text, at=step.ts, strategy=key,
                           instrument=body.get("instrument"), agent=actor)
            )  # fmt: skip
        for event_id, order_id, payload, ts in self.store.client.query(
            "SELECT toString(event_id), toString(order_id), payload, ts FROM audit_log "
            "WHERE kind = 'approval.answer'"
        ).result_rows:
            body = json.loads(payload or "{}")
            notes["decisions"].append(
                MemoryItem(
                    text=f"{body.get('approver')} answered {body.get('decision')} on order "
                    f"{order_id}: {body.get('reason') or 'no reason given'} (event {event_id})",
                    at=ts, agent=str(body.get("approver")), source="approval",
                )
            )  # fmt: skip
        written = 0
        for collection, items in notes.items():
            if items:
                written += len(self.memory.remember(collection, items))
        return written

    def instruments_on_venue(self, q: queries.InstrumentsOnVenue) -> list[queries.InstrumentInfo]:
        return queries.instruments_on_venue(self.graph, q)

    def strategies_exposed_to(
        self, q: queries.StrategiesExposedTo
    ) -> list[queries.StrategyExposure]:
        return queries.strategies_exposed_to(self.graph, q)

    def strategies_sharing_risk_model(
        self, q: queries.StrategiesSharingRiskModel
    ) -> list[queries.RiskModelPeer]:
        return queries.strategies_sharing_risk_model(self.graph, q)

    def correlated_clusters(self, q: queries.CorrelatedClusters) -> list[queries.Cluster]:
        return queries.correlated_clusters(self.graph, q)

    def correlated_holdings(self, q: queries.CorrelatedHoldings) -> list[queries.Holding]:
        return queries.correlated_holdings(self.graph, q)

    def lineage(self, q: queries.DecisionLineage) -> list[queries.Lineage]:
        return queries.decision_lineage(self.graph, q)

    def cypher(self, text: str) -> list[dict[str, Any]]:
        """Run `text` read-only: Cypher as given, or, when it is a question and an LLM is
        configured, the model's Cypher for it."""
        if nl_cypher.looks_like_cypher(text):
            return nl_cypher.run_read_only(self.graph, text)
        if self.settings.llm_base_url is None:
            raise ValueError("a question in words needs an LLM (QUANTDESK_LLM_BASE_URL); "
                             "or pass a read-only Cypher query")  # fmt: skip
        return nl_cypher.ask(self.graph, LlmCypherModel(self.settings), text)

    def remember(self, collection: Collection, items: list[MemoryItem]) -> list[str]:
        return self.memory.remember(collection, items)

    def recall(self, q: Recall) -> list[Memory]:
        """What memory holds for `q`; in a replay, only what was written by its now."""
        as_of = self.store.as_of if self.store is not None else None
        if as_of is None:
            return self.memory.recall(q)
        until = as_of.now if q.until is None else min(q.until, as_of.now)
        found = self.memory.recall(q.model_copy(update={"until": until}))
        as_of.observe("memory recall", (m.item.at for m in found))
        return found

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
        if self._memory is not None:
            self._memory.close()
