"""Risk's drawdown rule on a real bus (two Zenoh peers on loopback, risk in-process): the
kill switch at the drawdown limit, once; the count starts afresh only when execution says a
human rearmed the gate (a typed state change), not on an alert's wording or a non-human."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.services.risk_service import RiskService
from core.bus import Alert, Bus, FillEvent, Keys, RiskCommand, StateChange
from core.settings import Settings
from tests.fakes.loopback import free_port
from tests.services.conftest import wait_for


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[Bus, RiskService, list[RiskCommand]]]:
    hub = f"tcp/127.0.0.1:{free_port()}"
    with (
        Bus.open("peer", listen=[hub]) as execution,
        Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub]) as risk_bus,
    ):
        risk = RiskService(Settings(data_dir=tmp_path / "desk"), risk_bus)
        commands: list[RiskCommand] = []
        execution.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))  # type: ignore[arg-type]
        time.sleep(0.5)  # the peers meet
        yield execution, risk, commands


def fill(equity: float, n: int) -> FillEvent:
    return FillEvent(order_id=f"o{n}", strategy_id="manual", instrument="bitstamp:BTC/USD",
                     side="buy", quantity=0.01, price=20_000.0, fee=0.0,
                     position_after=0.01 * n, equity=equity)  # fmt: skip


def test_drawdown_kills_once_and_only_a_human_rearm_resets_it(wired):
    execution, risk, commands = wired
    execution.publish(Keys.fills("manual"), fill(1_000_000.0, 1))
    execution.publish(Keys.fills("manual"), fill(890_000.0, 2))
    wait_for(lambda: [c.action for c in commands] == ["kill_switch"], 5)
    assert "drawdown 11.0%" in commands[0].reason
    execution.publish(Keys.fills("manual"), fill(880_000.0, 3))
    # An alert that reads like a rearm, and a rearm by an agent, change nothing.
    execution.publish(Keys.alerts("info"), Alert(severity="info", source="x",
                                                  text="gate active: rearmed by mallory"))  # fmt: skip
    execution.publish(Keys.health("execution"),
                      StateChange(state="active", actor="risk", reason="self-serve"))  # fmt: skip
    time.sleep(0.5)
    assert risk.halted
    assert risk.peak_equity == 1_000_000.0
    execution.publish(Keys.health("execution"),
                      StateChange(state="active", actor="human:alice", reason="reviewed"))  # fmt: skip
    wait_for(lambda: not risk.halted, 5)
    execution.publish(Keys.fills("manual"), fill(880_000.0, 4))
    execution.publish(Keys.fills("manual"), fill(850_000.0, 5))
    time.sleep(0.5)
    assert [c.action for c in commands] == ["kill_switch"], "3.4% from the new peak: no kill"
    execution.publish(Keys.fills("manual"), fill(780_000.0, 6))
    wait_for(lambda: [c.action for c in commands] == ["kill_switch", "kill_switch"], 5)
