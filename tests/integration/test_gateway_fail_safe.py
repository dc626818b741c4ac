"""Fail-safe rules the gate itself enforces, through `gateway.Gateway` on a real chdb store:
REDUCING and a tripped breaker never let an order take a position through zero, and only a
named human re-arms (a refusal is recorded in the audit log)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from core.models.market import Trade
from core.models.trading import Side, TradingState
from core.store import AuditLog, Store
from gateway import Actor, Gateway, GatewayError, Verdict
from tests.gateway_fixtures import T0, at, limits, order


def trade(price: float, size: float = 5.0, seconds: float = 0.0) -> Trade:
    return Trade(
        venue_id="paper", symbol="BTC/USD", ts=at(seconds), trade_id=uuid4().hex,
        price=price, quantity=size,
    )  # fmt: skip


@pytest.fixture
def gw(store: Store) -> Gateway:
    gateway = Gateway(
        limits(approval_notional=1e9, dual_approval_notional=1e9), store=store, clock=lambda: T0
    )
    gateway.on_trade(trade(30_000.0))
    return gateway


def snapshot(gw: Gateway) -> tuple[object, ...]:
    return (
        gw.open_orders(), gw.account(), gw.positions(at=T0), gw.holdings(), gw.equity,
        gw.trading_state,
    )  # fmt: skip


def bought(gw: Gateway, quantity: float) -> None:
    assert gw.submit(order(Side.BUY, quantity, None)).verdict is Verdict.ACCEPT
    assert gw.holdings() == {"paper:BTC/USD": quantity}


def test_reducing_refuses_an_order_through_zero_and_changes_nothing(gw: Gateway) -> None:
    bought(gw, 2.0)
    gw.set_trading_state(TradingState.REDUCING, Actor.agent("risk"), "limit breach")
    before = snapshot(gw)
    for quantity in (3.0, 4.0):  # would leave -1 and -2: a flip, not a reduce
        decision = gw.submit(order(Side.SELL, quantity, None))
        assert decision.verdict is Verdict.DENY
        assert decision.reason_codes == ("REDUCING_ONLY",)
        assert gw.order_status(decision.order_id) is None
        assert snapshot(gw) == before
    assert gw.submit(order(Side.SELL, 2.0, None)).verdict is Verdict.ACCEPT
    assert gw.holdings() == {"paper:BTC/USD": 0.0}
    # Flat: a sell would open a short.
    assert gw.submit(order(Side.SELL, 0.1, None)).reason_codes == ("REDUCING_ONLY",)


def test_a_tripped_breaker_refuses_an_order_through_zero(gw: Gateway) -> None:
    bought(gw, 5.0)
    gw.on_trade(trade(19_000.0, 10.0, seconds=1))  # a 55k loss on the day: REDUCING
    assert gw.trading_state is TradingState.REDUCING
    before = snapshot(gw)
    decision = gw.submit(order(Side.SELL, 10.0, None), at=at(1))
    assert decision.verdict is Verdict.DENY
    assert decision.reason_codes == ("DAILY_LOSS_LIMIT", "REDUCING_ONLY")
    assert snapshot(gw) == before
    assert gw.submit(order(Side.SELL, 5.0, None), at=at(1)).verdict is Verdict.ACCEPT
    assert gw.holdings() == {"paper:BTC/USD": 0.0}


def test_only_a_named_human_rearms_and_refusals_are_audited(gw: Gateway, store: Store) -> None:
    gw.kill_switch(Actor.agent("risk"), "drawdown")
    assert gw.trading_state is TradingState.HALTED
    attempts: list[Actor | str] = [
        "risk-agent", "agent:risk", Actor.agent("risk"), Actor.service("execution"), "human:",
        "Human:alice",
    ]  # fmt: skip
    for actor in attempts:
        with pytest.raises(GatewayError, match=r"^REARM_REFUSED: "):
            gw.rearm(actor, "looks fine to me")
        assert gw.trading_state is TradingState.HALTED, f"{actor} lifted the halt"
    rows = store.client.query(
        "SELECT actor, correlation_id, payload FROM audit_log WHERE kind = 'rearm.refused'"
    ).result_rows
    # One clock tick for all: the rows share a timestamp, so compare them as a multiset.
    assert sorted(r[0] for r in rows) == sorted(str(a) for a in attempts)
    assert {r[1] for r in rows} == {"account:paper"}
    assert all("looks fine to me" in str(r[2]) for r in rows)
    gw.rearm(Actor.human("alice"), "root cause fixed")
    assert gw.account().trading_state is TradingState.ACTIVE
    assert AuditLog(store).count("rearm.refused") == len(attempts)
