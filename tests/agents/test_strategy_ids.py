"""Each promoted strategy trades under its own id: research's pick is registered with the gate
under its risk class, its fills and positions are its own, a restarted desk registers it again
before restoring them (so positions and a per-strategy halt survive), and the strategy view
shows its kind, parameters, stage history, backtest and realised figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.models.trading import TradingState
from core.settings import Settings
from core.store import Store, TradeLog
from graph.session import DeskSession
from interfaces import views
from tools.ingest.pipeline import ingest_bars
from tools.lifecycle import Lifecycle, risk_class


@pytest.fixture
def loaded(store: Store, bitstamp_btc_raw: pd.DataFrame) -> Store:
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return store


def session(store: Store, tmp_path: Path) -> DeskSession:
    return DeskSession(Settings(data_dir=tmp_path / "desk"), store)


def test_a_promoted_strategy_trades_under_its_own_id_across_a_restart(
    loaded: Store, tmp_path: Path
):
    with session(loaded, tmp_path) as desk:
        turn = desk.ask("find a momentum strategy for BTC and paper-trade it", "p")
        proposal = turn.results["research"]
        key = proposal["key"]
        target = proposal["target"]
        assert target["strategy_id"] == key
        assert target["risk_class"] == risk_class(desk.desk.limits, proposal["strategy"])
        assert turn.results["execution"]["verdict"] == "ACCEPT"
        assert Lifecycle(loaded).stage(key) == "paper"
        [fill] = TradeLog(loaded).fills(key)
        before = {p.strategy_id: p for p in desk.desk.gateway.positions()}
        assert set(before) == {key}, "no bucket (momentum, mean_reversion) holds it"
        desk.ask("buy 0.01 BTC", "m")
        desk.desk.gateway.set_trading_state(TradingState.HALTED, "risk", "review", strategy_id=key)
        cash = desk.desk.gateway.account().cash
    with session(loaded, tmp_path) as desk:
        gateway = desk.desk.gateway
        after = {p.strategy_id: p for p in gateway.positions()}
        assert set(after) == {key, "manual"}
        assert after[key].quantity == pytest.approx(before[key].quantity)
        assert after[key].average_price == pytest.approx(before[key].average_price)
        assert gateway.account().cash == pytest.approx(cash)
        assert gateway.strategy_state(key) is TradingState.HALTED, "its halt survived"
        assert gateway.strategy_state("manual") is TradingState.ACTIVE
        [registered] = [s for s in gateway.strategies() if s.strategy_id == key]
        assert registered.risk_class == target["risk_class"]
        [view] = [v for v in views.strategies(desk.desk) if v.key == key]
    assert view.kind == proposal["strategy"]["kind"]
    assert view.parameters == {k: v for k, v in proposal["strategy"].items() if k != "kind"}
    assert view.instrument == "bitstamp:BTC/USD"
    assert [s.stage for s in view.history] == ["proposed", "scored", "reviewed", "paper"]
    assert view.stage == "paper"
    assert (view.risk_class, view.trading_state) == (target["risk_class"], "halted")
    assert view.backtest.oos_sharpe == pytest.approx(proposal["oos_sharpe"])
    assert view.backtest.expected_max_drawdown == pytest.approx(proposal["expected_max_drawdown"])
    assert view.realised.fills == 1
    assert view.realised.quantity == pytest.approx(before[key].quantity)
    assert view.realised.fees == pytest.approx(float(fill["fee"]))
    assert len(TradeLog(loaded).fills()) == 2, "nothing was sent again"
