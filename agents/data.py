"""Data: ingestion and quality control on request."""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import AIMessage
from langgraph.types import Command

from agents.desk import Desk
from agents.state import DeskState, Node
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS

NAME = "data"


def ingest(desk: Desk, names: list[str]) -> dict[str, dict[str, int]]:
    """Load the named bundled datasets through quality control (idempotent); the desk then
    re-reads its prices."""
    unknown = sorted(set(names) - DATASETS.keys())
    if unknown:
        raise ValueError(f"unknown datasets {unknown}; known: {sorted(DATASETS)}")
    loaded = {}
    for name in names:
        dataset = DATASETS[name]
        report = ingest_bars(desk.store, dataset.read(), source=name, calendar=dataset.calendar)
        loaded[name] = {
            "stored": report.rows_stored,
            "quarantined": report.rows_quarantined,
            "already_held": report.rows_already_stored,
        }
    desk.prime()
    return loaded


def node(desk: Desk) -> Node:
    def data(state: DeskState) -> Command[Literal["__end__"]]:
        wanted = (state.get("intent") or {}).get("dataset")
        loaded = ingest(desk, [wanted] if wanted in DATASETS else list(DATASETS))
        text = "; ".join(
            f"{n}: {v['stored']} new, {v['quarantined']} quarantined" for n, v in loaded.items()
        )
        return Command(
            goto="__end__",
            update={
                "results": {NAME: loaded},
                "trace": [NAME],
                "messages": [AIMessage(text, name=NAME)],
            },
        )

    return data
