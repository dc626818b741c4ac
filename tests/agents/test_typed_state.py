"""The PM graph's typed state (agents/results.py): a state holding every typed part survives
the desk's SQLite checkpointer unchanged, as plain dicts, with no serializer warning, even
under strict msgpack; and each TypedDict mirrors the model whose JSON it types."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from pathlib import Path
from typing import Any, get_args

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import START, StateGraph
from typing_extensions import is_typeddict

from agents.results import (
    RESET,
    ApprovalRecord,
    DecayRecord,
    ExecutionReportRecord,
    ExposureBreachView,
    IntentRecord,
    PortfolioView,
    PositionView,
    RefusalRecord,
    Results,
    check_intent,
    check_portfolio,
    check_results,
)
from agents.state import DeskState, merge
from core.models.intent import Intent, Refusal
from graph.intents import KIND_MEANINGS, RoutedKind
from graph.session import CrashSafeSaver
from tools.decay import DecayCheck
from tools.orders import ExecutionReport
from tools.risk.breach import ExposureBreach, exposure_breach
from tools.risk.portfolio import PortfolioRisk, PositionLine

ORDER_ID = "0b5d3c9e-7f61-5a7e-9c51-8d1f1f0c2a11"
REPORT: ExecutionReportRecord = {
    "order_id": ORDER_ID, "symbol": "bitstamp:BTC/USD", "side": "buy", "quantity": 0.5,
    "verdict": "ACCEPT", "reasons": [], "status": "filled", "filled": 0.5,
}  # fmt: skip


def _portfolio() -> PortfolioView:
    risk = PortfolioRisk(
        positions=[
            PositionLine(
                strategy="manual", instrument="bitstamp:BTC/USD", quantity=0.5,
                average_price=60_000.0, realized_pnl=0.0, unrealized_pnl=125.5,
            )
        ],
        cash=70_000.0, equity=100_125.5, gross_exposure=30_125.5, net_exposure=30_125.5,
        annual_volatility=0.41, var_95=1_234.5, expected_shortfall_95=1_800.25,
        correlations={"bitstamp:BTC/USD": {"bitstamp:BTC/USD": 1.0}},
        trading_state="active", limits_version="v1", max_gross_exposure=250_000.0,
        exposure_breach=exposure_breach(30_125.5, 250_000.0, 0.9),
    )  # fmt: skip
    return check_portfolio(risk.model_dump())


def every_typed_part() -> DeskState:
    """One state with each typed part and every agent's result."""
    intent = check_intent(
        Intent(kind="trade", symbol="BTC", side="buy", quantity=0.5, router="llm").model_dump()
    )
    portfolio = _portfolio()
    target = {
        "key": "ts_momentum-abc", "side": "buy", "quantity": 0.05, "symbol": "bitstamp:BTC/USD",
        "strategy_id": "ts_momentum-abc", "risk_class": "trend",
    }  # fmt: skip
    results = check_results(
        {
            "pm": {"refused": "not understood: quantity '0': zero"},
            "research": {
                "instrument": "bitstamp:BTC/USD",
                "strategy": {"kind": "ts_momentum", "lookback": 60},
                "in_sample_sharpe": 1.1, "oos_sharpe": 0.8, "expected_sharpe": 0.8,
                "expected_max_drawdown": -0.3, "expected_volatility": 0.5, "trades": 42,
                "folds": 5, "latest_weight": 1.0, "risk_class": "trend", "target": target,
                "key": "ts_momentum-abc", "memory": ["an earlier note"],
            },
            "judge": {"score": 0.8, "checks": {"at least 10 trades": True}, "passed": True},
            "risk": {
                "view": portfolio,
                "decay": [dataclasses.asdict(DecayCheck("k", "paper", 30, None, 1.2, False))],
                "anomalies": {"checked": 3, "flagged": [], "note": "fewer than 50 fills"},
                "instruction": "reduce",
                "market_correlations": {"a": {"b": 0.5}},
                "proposal_ok": True, "concerns": [], "correlated_exposure": [],
            },
            "target": target,
            "data": {"crypto": {"stored": 10, "quarantined": 1, "already_held": 0}},
            "monitor": {
                "store_rows": {"bars": 10}, "series": 2, "stale_traded_series": [],
                "gateway_state": "active", "open_orders": 0,
                "desk_time": "2024-01-02T00:00:00+00:00", "healthy": True,
            },
            "report": {"markdown": "/tmp/report.md", "html": "/tmp/report.html"},
            "execution": {"reduced": [REPORT]},
            "pending_order": {
                "order": {"order_id": ORDER_ID, "quantity": 0.5},
                "target_key": None, "requested_at": "2024-01-02T00:00:00+00:00",
            },
        }
    )  # fmt: skip
    approval: ApprovalRecord = {
        "order_id": ORDER_ID, "decision": "approve", "approver": "alice", "reason": "ok",
        "at": "2024-01-02T00:00:00+00:00", "expired": False,
    }  # fmt: skip
    return {
        "messages": [HumanMessage("buy 0.5 BTC", id="h1"), AIMessage("done", name="pm", id="a1")],
        "request": "buy 0.5 BTC",
        "intent": intent,
        "plan": ["execution"],
        "results": results,
        "portfolio": portfolio,
        "approvals": [approval],
        "trace": ["pm", "execution"],
    }


def _saved_and_read(path: Path, state: DeskState, strict: bool) -> dict[str, Any]:
    """Write `state` through a one-node graph on the desk's saver; read it back on a new
    connection (so it comes from SQLite, not from memory)."""

    def write(_: DeskState) -> DeskState:
        return state

    builder = StateGraph(DeskState)
    builder.add_node("write", write)
    builder.add_edge(START, "write")
    config: Any = {"configurable": {"thread_id": "typed"}}
    with sqlite3.connect(path, check_same_thread=False) as conn:
        builder.compile(checkpointer=CrashSafeSaver(conn)).invoke({}, config)
    # Strict: only langgraph's safe types revive; anything else would come back changed.
    serde = JsonPlusSerializer(allowed_msgpack_modules=None) if strict else None
    with sqlite3.connect(path, check_same_thread=False) as conn:
        graph = builder.compile(checkpointer=CrashSafeSaver(conn, serde=serde))
        return dict(graph.get_state(config).values)


def _plain(value: object) -> None:
    """Only JSON's own kinds of value: nothing the serializer revives by class path."""
    if isinstance(value, dict):
        assert type(value) is dict
        for key, item in value.items():
            assert isinstance(key, str)
            _plain(item)
    elif isinstance(value, list):
        for item in value:
            _plain(item)
    else:
        assert value is None or isinstance(value, str | int | float | bool), type(value)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict-msgpack"])
def test_every_typed_part_survives_the_sqlite_checkpointer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, strict: bool
):
    state = every_typed_part()
    with caplog.at_level(logging.WARNING, logger="langgraph"):
        read = _saved_and_read(tmp_path / "checkpoints.sqlite", state, strict)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("langgraph")] == []
    assert read == state
    for part in ("intent", "results", "portfolio", "approvals"):
        _plain(read[part])
    assert check_results(read["results"]) == state["results"]


def test_a_reset_starts_the_turns_results_afresh():
    kept: Results = {"risk": every_typed_part()["results"]["risk"]}
    assert merge(kept, {"monitor": every_typed_part()["results"]["monitor"]}).keys() == {
        "risk",
        "monitor",
    }
    assert merge(kept, {RESET: True, "pm": {"refused": "no"}}) == {"pm": {"refused": "no"}}


def test_an_unknown_key_is_refused_where_the_state_is_read():
    """Every mirror forbids keys it does not know: a model that grows a field cannot slip
    past its TypedDict unnoticed."""
    with pytest.raises(ValueError, match="extra"):
        check_results({"execution": {**REPORT, "venue_ack": "x"}})
    with pytest.raises(ValueError):
        check_results({"someone": {}})


def _keys(kind: type) -> set[str]:
    assert is_typeddict(kind)
    return set(kind.__annotations__)


@pytest.mark.parametrize(
    ("mirror", "fields"),
    [
        (IntentRecord, set(Intent.model_fields)),
        (RefusalRecord, set(Refusal.model_fields)),
        (PortfolioView, set(PortfolioRisk.model_fields)),
        (PositionView, set(PositionLine.model_fields)),
        (ExposureBreachView, set(ExposureBreach.model_fields)),
        (DecayRecord, {f.name for f in dataclasses.fields(DecayCheck)}),
        (ExecutionReportRecord, set(ExecutionReport.model_fields)),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_each_typeddict_mirrors_its_model(mirror: type, fields: set[str]):
    assert _keys(mirror) == fields


def test_every_routed_kind_has_its_meaning():
    """The kinds (core/models/intent.py) and their meanings (graph/intents.py) live apart."""
    assert list(KIND_MEANINGS) == list(get_args(RoutedKind))
