"""Retrieval quality on a labelled set: recall@k and MRR, per collection (as agents search)
and pooled (every note in one collection: the harder test)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from knowledge.memory.store import Collection, MemoryItem, MemoryStore, Recall

LABELLED_SET = Path(__file__).resolve().parents[2] / "evals" / "memory" / "recall_set.json"


class LabelledNote(BaseModel):
    id: str
    collection: Collection
    strategy: str
    instrument: str
    at: datetime
    text: str


class LabelledQuery(BaseModel):
    collection: Collection
    relevant: str
    text: str


class LabelledSet(BaseModel):
    description: str
    notes: list[LabelledNote]
    queries: list[LabelledQuery]


class RecallScores(BaseModel):
    mode: str
    queries: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    misses: list[str]


def load_set(path: Path = LABELLED_SET) -> LabelledSet:
    return LabelledSet.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _item(note: LabelledNote) -> MemoryItem:
    return MemoryItem(
        text=note.text, at=note.at, strategy=note.strategy or None,
        instrument=note.instrument or None, source=note.id,
    )  # fmt: skip


def evaluate(memory: MemoryStore, labelled: LabelledSet, pooled: bool) -> RecallScores:
    """Write the notes (all into `research_notes` when pooled), then ask every query."""
    for note in labelled.notes:
        memory.remember("research_notes" if pooled else note.collection, [_item(note)])
    ranks: list[int | None] = []
    misses = []
    for q in labelled.queries:
        found = memory.recall(
            Recall(query=q.text, collection="research_notes" if pooled else q.collection, limit=5)
        )
        sources = [m.item.source for m in found]
        rank = sources.index(q.relevant) + 1 if q.relevant in sources else None
        ranks.append(rank)
        if rank != 1:
            misses.append(f"{q.relevant}: {q.text!r} -> {sources[:3]}")
    n = len(ranks)
    return RecallScores(
        mode="pooled" if pooled else "per-collection", queries=n,
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_5=sum(r is not None for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n, misses=misses,
    )  # fmt: skip
