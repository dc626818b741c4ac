"""Qdrant memory in local mode with the offline MiniLM embedder: retrieval quality on the
labelled set, payload filters, idempotent writes, persistence, and refusals of bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings
from knowledge.memory.evaluation import evaluate, load_set
from knowledge.memory.store import MemoryItem, MemoryStore, Recall


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[MemoryStore]:
    with MemoryStore.open(Settings(data_dir=tmp_path)) as opened:
        yield opened


def note(text: str, day: int, strategy: str = "s1", instrument: str = "bitstamp:BTC/USD"):
    return MemoryItem(
        text=text, at=datetime(2024, 1, day, tzinfo=UTC), strategy=strategy, instrument=instrument
    )


@pytest.mark.parametrize("pooled", [False, True], ids=["per-collection", "pooled"])
def test_recall_on_the_labelled_set(memory: MemoryStore, pooled: bool):
    scores = evaluate(memory, load_set(), pooled=pooled)
    print(scores.model_dump_json(indent=1))
    assert scores.queries >= 20
    assert scores.recall_at_5 >= 0.9, scores.misses
    assert scores.recall_at_1 >= 0.7, scores.misses


def test_filters_by_strategy_instrument_and_date(memory: MemoryStore):
    memory.remember(
        "research_notes",
        [
            note("bitcoin momentum with a volatility target", 5, "btc", "bitstamp:BTC/USD"),
            note("google mean reversion lost money", 10, "goog", "nasdaq:GOOG"),
            note("bitcoin breakout on weekly channels", 20, "btc2", "bitstamp:BTC/USD"),
        ],
    )
    q = "bitcoin strategy"
    assert {m.item.strategy for m in memory.recall(Recall(query=q, strategy="goog"))} == {"goog"}
    on_btc = memory.recall(Recall(query=q, instrument="bitstamp:BTC/USD"))
    assert {m.item.strategy for m in on_btc} == {"btc", "btc2"}
    window = Recall(
        query=q, since=datetime(2024, 1, 8, tzinfo=UTC), until=datetime(2024, 1, 15, tzinfo=UTC)
    )
    assert [m.item.strategy for m in memory.recall(window)] == ["goog"]
    assert memory.recall(Recall(query=q, strategy="nobody")) == []
    assert memory.recall(Recall(query=q, collection="incidents")) == []


def test_remembering_twice_keeps_one_copy(memory: MemoryStore):
    item = note("the kill switch halted trading", 3)
    first = memory.remember("incidents", [item])
    again = memory.remember("incidents", [item])
    assert first == again
    assert memory.count("incidents") == 1


def test_memory_survives_reopening(tmp_path: Path):
    with MemoryStore.open(Settings(data_dir=tmp_path)) as m:
        m.remember("decisions", [note("alice approved 3 BTC", 7)])
    with MemoryStore.open(Settings(data_dir=tmp_path)) as m:
        (hit,) = m.recall(Recall(query="who approved the bitcoin order", collection="decisions"))
        assert hit.item.text == "alice approved 3 BTC"


@pytest.mark.parametrize(
    "bad",
    [
        {"query": ""},
        {"query": "x", "limit": 0},
        {"query": "x", "limit": 1000},
        {"query": "x", "collection": "passwords"},
        {"query": "x", "unexpected": True},
    ],
)
def test_bad_recall_requests_are_refused_and_lose_nothing(memory: MemoryStore, bad: dict):
    memory.remember("research_notes", [note("kept", 1)])
    with pytest.raises(ValidationError):
        Recall(**bad)
    assert memory.count("research_notes") == 1


def test_bad_items_are_refused(memory: MemoryStore):
    with pytest.raises(ValidationError):
        MemoryItem(text="", at=datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError):
        MemoryItem(text="x" * 20_001, at=datetime(2024, 1, 1, tzinfo=UTC))
    naive = MemoryItem(text="naive times are read as UTC", at=datetime(2024, 1, 1))
    assert naive.at.tzinfo is not None
    assert memory.count("research_notes") == 0
