"""A strategy registered with the gateway at run time trades under its own id: its risk
class's position limit, its own positions and trading state; a duplicate id or an unknown
class is refused; the registration is in the audit log."""

from __future__ import annotations

import pytest

from core.models.trading import Order, Side, TradingState
from core.store import AuditLog, Store
from gateway import GateStrategy, Gateway, GatewayError, Verdict
from tests.gateway_fixtures import T0, limits, order
from tests.integration.test_gateway_api import trade


@pytest.fixture
def gw(store: Store) -> Gateway:
    no_approvals = {"approval_notional": 1e9, "dual_approval_notional": 1e9}
    gateway = Gateway(limits(**no_approvals), store=store, clock=lambda: T0)
    gateway.on_trade(trade(2_000.0, 1_000.0, symbol="ETH/USD"))
    return gateway


def eth(strategy: str, quantity: float) -> Order:
    return order(Side.BUY, quantity, None, symbol="ETH/USD", strategy=strategy)


def test_a_registered_strategy_trades_under_its_own_id_with_its_class_limit(
    gw: Gateway, store: Store
):
    assert not gw.has_strategy("a1b2")
    denied = gw.submit(eth("a1b2", 1.0))
    assert denied.reason_codes == ("STRATEGY_UNKNOWN",)
    gw.add_strategy("a1b2", "mean_reversion")
    gw.add_strategy("c3d4", "momentum")
    assert gw.strategies()[-2:] == [
        GateStrategy("a1b2", "mean_reversion", 100_000.0, TradingState.ACTIVE),
        GateStrategy("c3d4", "momentum", 300_000.0, TradingState.ACTIVE),
    ]
    # mean_reversion allows 100,000 a strategy: 60 ETH at 2,000 is over it, 40 is not.
    assert gw.submit(eth("a1b2", 60.0)).reason_codes == ("POSITION_LIMIT_STRATEGY",)
    assert gw.submit(eth("a1b2", 40.0)).verdict is Verdict.ACCEPT
    assert gw.submit(eth("c3d4", 60.0)).verdict is Verdict.ACCEPT
    held = {p.strategy_id: p.quantity for p in gw.positions()}
    assert held == pytest.approx({"a1b2": 40.0, "c3d4": 60.0})
    gw.set_trading_state(TradingState.HALTED, "risk", "decayed", strategy_id="a1b2")
    assert gw.submit(eth("a1b2", 1.0)).reason_codes == ("STRATEGY_HALTED",)
    assert gw.submit(eth("c3d4", 1.0)).verdict is Verdict.ACCEPT
    assert gw.strategy_state("mean_reversion") is TradingState.ACTIVE
    [event] = [e for e in gw.recent_events if e["kind"] == "gate.strategy_added"][:1]
    assert (event["strategy_id"], event["risk_class"]) == ("a1b2", "mean_reversion")
    assert AuditLog(store).count("gate.strategy_added") == 2


def test_a_duplicate_id_or_an_unknown_class_is_refused(gw: Gateway):
    gw.add_strategy("a1b2", "momentum")
    with pytest.raises(GatewayError, match="STRATEGY_EXISTS"):
        gw.add_strategy("a1b2", "mean_reversion")
    with pytest.raises(GatewayError, match="STRATEGY_EXISTS"):
        gw.add_strategy("momentum", "momentum")
    with pytest.raises(GatewayError, match="RISK_CLASS_UNKNOWN"):
        gw.add_strategy("e5f6", "yolo")
    with pytest.raises(GatewayError, match="BAD_ARGUMENT"):
        gw.add_strategy("has space", "momentum")
    assert [s.strategy_id for s in gw.strategies()] == ["momentum", "mean_reversion", "a1b2"]
