"""Risk's drawdown rule on a real bus (two Zenoh peers on loopback, risk in-process): the
kill switch at the drawdown limit, once; the count starts afresh only when execution says a
human rearmed the gate (a typed state change), not on an alert's wording or a non-human."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from agents.services.risk_service import RiskService
from core.bus import Alert, Bus, BusMessage, FillEvent, Keys, MarketBar, RiskCommand, StateChange
from core.settings import Settings
from tests.fakes.loopback import free_port
from tests.services.conftest import heard
from tests.waiting import wait_until

BTC = "bitstamp:BTC/USD"


class CountedRisk(RiskService):
    """Risk as it is, counting the state changes it has finished handling: a test waits
    for the count before it checks that one which should change nothing changed nothing."""

    def __init__(self, settings: Settings, bus: Bus) -> None:
        self.states_handled = 0
        super().__init__(settings, bus)

    def _state(self, message: BusMessage, key: str) -> None:
        super()._state(message, key)
        self.states_handled += 1


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[Bus, CountedRisk, list[RiskCommand]]]:
    hub = f"tcp/127.0.0.1:{free_port()}"
    with (
        Bus.open("peer", listen=[hub]) as execution,
        Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub]) as risk_bus,
    ):
        risk = CountedRisk(Settings(data_dir=tmp_path / "desk"), risk_bus)
        commands: list[RiskCommand] = []
        execution.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))  # type: ignore[arg-type]
        # The peers meet: each knows the other's subscribers, so nothing is published to no one.
        heard(risk_bus, Keys.RISK_COMMANDS)
        for key in (Keys.fills("manual"), Keys.market_data("bitstamp", "BTC/USD"),
                    Keys.health("execution")):  # fmt: skip
            heard(execution, key)
        yield execution, risk, commands


def fill(equity: float, n: int) -> FillEvent:
    return FillEvent(order_id=f"o{n}", strategy_id="manual", instrument=BTC,
                     side="buy", quantity=0.01, price=20_000.0, fee=0.0,
                     position_after=0.01 * n, equity=equity)  # fmt: skip


def test_drawdown_kills_once_and_only_a_human_rearm_resets_it(wired):
    execution, risk, commands = wired
    execution.publish(Keys.fills("manual"), fill(1_000_000.0, 1))
    execution.publish(Keys.fills("manual"), fill(890_000.0, 2))
    wait_until(lambda: [c.action for c in commands] == ["kill_switch"], 5, what="one kill switch")
    assert "drawdown 11.0%" in commands[0].reason
    third = fill(880_000.0, 3)
    execution.publish(Keys.fills("manual"), third)
    # An alert that reads like a rearm, and a rearm by an agent, change nothing.
    execution.publish(Keys.alerts("info"), Alert(severity="info", source="x",
                                                  text="gate active: rearmed by mallory"))  # fmt: skip
    execution.publish(Keys.health("execution"),
                      StateChange(state="active", actor="risk", reason="self-serve"))  # fmt: skip
    wait_until(
        lambda: risk.states_handled == 1 and risk.positions[BTC][0] == third.position_after,
        5,
        what="risk has handled the third fill and the agent's state change",
    )
    assert risk.halted
    assert risk.peak_equity == 1_000_000.0
    execution.publish(Keys.health("execution"),
                      StateChange(state="active", actor="human:alice", reason="reviewed"))  # fmt: skip
    wait_until(lambda: not risk.halted, 5, what="a human's rearm resets risk")
    execution.publish(Keys.fills("manual"), fill(880_000.0, 4))
    execution.publish(Keys.fills("manual"), fill(850_000.0, 5))  # 3.4% from the new peak
    sixth = fill(780_000.0, 6)  # 11.4% from it
    execution.publish(Keys.fills("manual"), sixth)
    wait_until(lambda: len(commands) == 2, 5, what="a second command", show=lambda: commands)
    # Risk handles fills in order and its commands arrive in order: the second kill answers
    # the sixth fill, so the fifth (3.4% from the new peak) killed nothing.
    assert [c.action for c in commands] == ["kill_switch", "kill_switch"]
    assert commands[1].trace_id == sixth.trace_id
    assert "drawdown 11.4%" in commands[1].reason


def bar(day: int, close: float) -> MarketBar:
    return MarketBar(instrument="bitstamp:BTC/USD", interval="1d",
                     bar_ts=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day),
                     open=close, high=close, low=close, close=close, volume=1.0)  # fmt: skip


def test_risk_marks_and_measures_volatility_from_bars_on_the_bus(wired):
    execution, risk, commands = wired
    closes = 20_000 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.03, 80)))
    for day, close in enumerate(closes):
        execution.publish(Keys.market_data("bitstamp", "BTC/USD"), bar(day, float(close)))
    last = int(bar(79, 1.0).bar_ts.timestamp() * 1000)
    wait_until(lambda: risk.latest_bar.get(BTC) == last, 5, what="risk marks to the last bar")
    assert len(risk.closes["bitstamp:BTC/USD"]) == 60
    # Only the last 60 closes count; consecutive days: 365.25 returns a year.
    expected = np.diff(np.log(closes[-60:])).std(ddof=1) * np.sqrt(365.25)
    assert risk.volatility["bitstamp:BTC/USD"] == pytest.approx(expected, rel=1e-9)

    execution.publish(Keys.fills("manual"), fill(1_000_000.0, 100))  # 1 BTC at 20,000
    wait_until(lambda: risk.gross == pytest.approx(20_000.0), 5, what="1 BTC at 20,000 gross")
    execution.publish(Keys.market_data("bitstamp", "BTC/USD"), bar(80, 25_000.0))
    wait_until(lambda: risk.gross == pytest.approx(25_000.0), 5, what="the mark moves to 25,000")
    # A late bar from an earlier day joins the window but never moves the mark back.
    execution.publish(Keys.market_data("bitstamp", "BTC/USD"), bar(79, 1_000.0))
    # A bar that does not validate (a negative close) is dropped; the worker goes on.
    execution.session.put(
        Keys.market_data("bitstamp", "BTC/USD"),
        bar(81, 30_000.0).model_dump_json().replace("30000.0", "-5.0", 1).encode(),
    )
    execution.publish(Keys.market_data("bitstamp", "BTC/USD"), bar(82, 26_000.0))
    wait_until(lambda: risk.gross == pytest.approx(26_000.0), 5, what="the mark moves to 26,000")
    assert 1_000.0 in risk.closes["bitstamp:BTC/USD"].values()
    assert -5.0 not in risk.closes["bitstamp:BTC/USD"].values()
    assert commands == []
