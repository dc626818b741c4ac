"""Research's paper-trade is a rebalance: the instrument moves to the chosen strategy's goal
(5% of equity in the signal's direction), a repeated cycle with the same signal sends
nothing, and a strategy chosen before for the instrument is closed first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from tools.ingest.pipeline import ingest_bars
from tools.orders import Turn, order_for, send

REQUEST = "find a momentum strategy for BTC and paper-trade it"


@pytest.fixture
def desk(store: Store, bitstamp_btc_raw: pd.DataFrame, tmp_path: Path) -> DeskSession:
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return DeskSession(Settings(data_dir=tmp_path / "desk", memory_enabled=False), store)


def _held(session: DeskSession) -> dict[str, float]:
    return {
        p.strategy_id: p.quantity
        for p in session.desk.gateway.positions()
        if p.symbol == "BTC/USD" and p.quantity != 0
    }


def test_a_second_cycle_with_the_same_signal_sends_nothing(desk: DeskSession) -> None:
    with desk:
        first = desk.ask(REQUEST, "cycle-1")
        assert first.results["execution"]["verdict"] == "ACCEPT"
        key = first.results["research"]["key"]
        before = _held(desk)
        assert list(before) == [key]
        second = desk.ask(REQUEST, "cycle-2")
        assert "target" not in second.results["research"]
        assert "execution" not in second.trace
        assert _held(desk) == before


def test_a_strategy_chosen_before_is_closed_first(desk: DeskSession) -> None:
    with desk:
        gateway = desk.desk.gateway
        desk.desk.trade_under("older-choice", "momentum")
        made = order_for(
            gateway, desk.desk.book, desk.desk.now, Turn(thread="earlier", turn=1),
            side="buy", quantity=1.0, symbol="BTC", limit_price=None,
            strategy_id="older-choice",
        )  # fmt: skip
        assert not isinstance(made, Exception)
        assert send(gateway, made).verdict.value == "ACCEPT"  # type: ignore[union-attr]
        assert _held(desk) == {"older-choice": 1.0}
        turn = desk.ask(REQUEST, "cycle")
        target = turn.results["research"]["target"]
        assert target["retire"] == ["older-choice"]
        held = _held(desk)
        assert "older-choice" not in held
        assert held[target["key"]] == pytest.approx(
            target["quantity"] if target["side"] == "buy" else -target["quantity"]
        )
        assert "retired older-choice" in " ".join(turn.answers)
