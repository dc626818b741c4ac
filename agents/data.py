"""Data: ingestion and quality control on request."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Command

from agents.desk import Desk
from agents.results import ErrorResult, LastClose, Loaded, Prices
from agents.state import DeskState, Node, finish
from core.store import MarketDataStore
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS
from tools.instruments import NoInstrument

NAME = "data"


def ingest(desk: Desk, names: list[str]) -> dict[str, Loaded]:
    """Load the named bundled datasets through quality control (idempotent); the desk then
    re-reads its prices."""
    if desk.store.as_of is not None:
        # The bundled datasets hold the replay's future: its bars arrive with its clock.
        raise ValueError(
            f"a replay loads no dataset ({', '.join(names)}): its bars arrive day by day "
            "with its clock"
        )
    unknown = sorted(set(names) - DATASETS.keys())
    if unknown:
        raise ValueError(f"unknown datasets {unknown}; known: {sorted(DATASETS)}")
    loaded: dict[str, Loaded] = {}
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


def latest_prices(desk: Desk, symbol: str | None) -> Prices | ErrorResult:
    """The last stored daily bar of the named instrument (or of each one the desk trades)."""
    if symbol:
        found = desk.resolve(symbol)
        if isinstance(found, NoInstrument):
            return {"error": found.message}
        wanted = [found]
    else:
        wanted = list(desk.book.instruments)
    market = MarketDataStore(desk.store)
    prices: dict[str, LastClose | None] = {}
    for inst in wanted:
        frame = market.read_bars(inst.venue, inst.symbol, "1d").tail(1)
        prices[inst.id] = (
            {"close": float(frame["close"].iloc[0]), "at": str(frame["ts"].iloc[0].date())}
            if len(frame)
            else None
        )
    return {"prices": prices}


def _price_text(out: Prices | ErrorResult) -> str:
    if "error" in out:
        return out["error"]
    return "; ".join(
        f"{name} last close {p['close']:,.2f} on {p['at']}" if p else f"{name}: no data loaded"
        for name, p in out["prices"].items()
    )


def node(desk: Desk) -> Node:
    def data(state: DeskState) -> Command[Literal["__end__"]]:
        intent = state.get("intent", {})
        if intent.get("kind") == "price":
            out = latest_prices(desk, intent.get("symbol"))
            return finish(NAME, out, _price_text(out))
        wanted = intent.get("dataset")
        try:
            loaded = ingest(desk, [wanted] if wanted in DATASETS else list(DATASETS))
        except ValueError as exc:
            error: ErrorResult = {"error": str(exc)}
            return finish(NAME, error, f"data not loaded: {exc}")
        text = "; ".join(
            f"{n}: {v['stored']} new, {v['quarantined']} quarantined" for n, v in loaded.items()
        )
        return finish(NAME, loaded, text)

    return data
