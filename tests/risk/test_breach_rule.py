"""One breach rule (tools.risk): the risk agent's path (a desk holding 1 BTC, asked about its
exposure) and the risk service's path (the same holding as a fill on a real bus) give the same
verdict at and just under `settings.risk_breach_fraction` of the gross-exposure limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents.services.risk_service import RiskService
from core.bus import Bus, FillEvent, Keys, MarketBar, RiskCommand
from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from gateway.limits import DEFAULT_LIMITS
from graph.session import DeskSession
from tests.fakes.loopback import free_port
from tests.waiting import wait_until
from tools.ingest.pipeline import ingest_bars

LIMIT = 50_000.0
AT = 45_000.0  # 0.9 x 50,000: exactly the default fraction of the limit
UNDER = 44_999.99


def limits_file(tmp_path: Path) -> Path:
    path = tmp_path / "limits.toml"
    path.write_text(
        DEFAULT_LIMITS.read_text().replace(
            "max_gross_exposure = 1_500_000.0", f"max_gross_exposure = {LIMIT}"
        )
    )
    return path


def btc_bars(last_close: float) -> pd.DataFrame:
    """40 daily BTC bars whose last close is `last_close`."""
    rng = np.random.default_rng(3)
    closes = last_close * np.exp(np.concatenate([np.cumsum(rng.normal(0, 0.01, 39))[::-1], [0]]))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return pd.DataFrame(
        {
            "venue": "bitstamp", "symbol": "BTC/USD", "interval": "1d",
            "ts": [start + timedelta(days=i) for i in range(40)],
            "open": closes, "high": closes * 1.01, "low": closes * 0.99, "close": closes,
            "volume": 1_000.0, "derived": False, "source": "test",
        }
    )  # fmt: skip


def agent_verdict(store: Store, tmp_path: Path, close: float) -> bool:
    ingest_bars(store, btc_bars(close), source="test", calendar=SessionCalendar.CONTINUOUS)
    settings = Settings(data_dir=tmp_path / "desk", limits_path=limits_file(tmp_path))
    assert settings.risk_breach_fraction == 0.9
    with DeskSession(settings, store) as desk:
        assert desk.ask("buy 1 BTC", "t").results["execution"]["status"] == "filled"
        risk = desk.ask("what is our exposure?", "t").results["risk"]
    view = risk["view"]
    assert view["gross_exposure"] == close
    assert view["exposure_breach"]["breached"] is (risk.get("instruction") == "reduce")
    return bool(view["exposure_breach"]["breached"])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Bus, list[RiskCommand]]]:
    hub = f"tcp/127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path / "svc", limits_path=limits_file(tmp_path))
    with (
        Bus.open("peer", listen=[hub]) as execution,
        Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub]) as risk_bus,
    ):
        risk = RiskService(settings, risk_bus)
        commands: list[RiskCommand] = []
        execution.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))  # type: ignore[arg-type]
        wait_until(lambda: met(execution, risk), 5, what="risk hearing execution")
        yield execution, commands


def met(execution: Bus, risk: RiskService) -> bool:
    """Whether risk hears execution yet: an hourly bar (no position, no close) reached it."""
    bar = MarketBar(instrument="bitstamp:ETH/USD", interval="1h", bar_ts=datetime(2020, 1, 1,
                    tzinfo=UTC), open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)  # fmt: skip
    execution.publish(Keys.market_data("bitstamp", "ETH/USD"), bar)
    return "bitstamp:ETH/USD" in risk.latest_bar


def fill(n: int, price: float) -> FillEvent:
    return FillEvent(order_id=f"o{n}", strategy_id="manual", instrument="bitstamp:BTC/USD",
                     side="buy", quantity=1.0, price=price, fee=0.0, position_after=float(n),
                     equity=1_000_000.0)  # fmt: skip


def service_verdict(bus: Bus, commands: list[RiskCommand], close: float) -> bool:
    """1 BTC at `close`; then a second BTC, a sure breach, whose reduce comes after any
    the first fill made (one publisher, one subscriber: in order)."""
    bus.publish(Keys.fills("manual"), fill(1, close))
    bus.publish(Keys.fills("manual"), fill(2, close))
    wait_until(
        lambda: any(f"{2 * close:,.0f}" in c.reason for c in commands),
        5,
        what="the second fill's reduce",
        show=lambda: commands,
    )
    assert all(c.action == "reduce" for c in commands)
    return any(f"gross exposure {close:,.0f} >=" in c.reason for c in commands)


@pytest.mark.parametrize(("close", "breached"), [(AT, True), (UNDER, False)])
def test_agent_and_service_give_one_verdict(
    store: Store, tmp_path: Path, service: tuple[Bus, list[RiskCommand]], close: float,
    breached: bool,
):  # fmt: skip
    assert agent_verdict(store, tmp_path, close) is breached
    assert service_verdict(*service, close) is breached
