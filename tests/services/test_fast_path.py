"""The gate's Rust fast path on a real loopback Zenoh bus, against core.bus peers: every
message type crosses both ways; malformed ones are refused on the Rust side as on the
Python side; the kill switch, risk's strategy halt, the drawdown, daily-loss and
strategy-loss breakers and the dead-man switch put the gate's refusal in force from Rust
threads, are told on the bus, reach the engine's events, and only a human lifts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from core.bus import (
    Alert,
    Bus,
    BusMessage,
    Control,
    FillEvent,
    Heartbeat,
    IngestRequest,
    Keys,
    LlmUsage,
    MarketBar,
    OrderEvent,
    OrderRequest,
    Reply,
    RiskCommand,
    StateChange,
)
from core.models.market import Trade
from core.models.trading import Side, TradingState
from gateway import Gateway
from gateway._core import BusEcho
from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
from tests.fakes.loopback import free_port
from tests.gateway_fixtures import T0, limits, order
from tests.services.conftest import heard
from tests.waiting import wait_until

EVERY_TYPE: list[BusMessage] = [
    Heartbeat(agent="risk", seq=7, pid=1234, state="ok"),
    OrderEvent(
        order_id="o-1",
        strategy_id="momentum",
        instrument="bitstamp:BTC/USD",
        side="buy",
        quantity=0.5,
        verdict="ACCEPT",
        reasons=["X", "Y"],
    ),
    FillEvent(
        order_id="o-1",
        strategy_id="momentum",
        instrument="bitstamp:BTC/USD",
        side="sell",
        quantity=0.25,
        price=20_123.5,
        fee=1.25,
        position_after=-0.25,
        equity=999_876.5,
    ),
    MarketBar(
        instrument="bitstamp:BTC/USD",
        interval="1m",
        bar_ts=datetime(2026, 12, 3, 12, tzinfo=UTC),
        open=1.0,
        high=2.0,
        low=0.5,
        close=1.5,
        volume=0.0,
        source="stream",
    ),
    RiskCommand(
        action="halt_strategy",
        strategy_id="momentum",
        instrument=None,
        fraction=1.0,
        reason="ünïcode réason ✓",
        issued_by="risk",
    ),
    Alert(severity="critical", source="risk", text='a\nmulti-line "quoted" text'),
    OrderRequest(side="buy", quantity=1e-8, symbol="BTC", limit_price=None, requested_by="pm"),
    OrderRequest(side="sell", quantity=3, symbol="ETH", limit_price=2_900.25, requested_by="pm"),
    Control(action="rearm", actor="human:alice", reason="reviewed"),
    StateChange(scope="strategy:momentum", state="halted", actor="risk", reason="loss"),
    LlmUsage(
        model="qwen",
        prompt_version="router-v7",
        prompt_tokens=10,
        completion_tokens=2,
        cost_usd=0.0,
        latency_ms=12.5,
    ),
    IngestRequest(datasets=["crypto", "equities"], requested_by="data"),
    Reply(ok=True, body={"state": "active", "positions": {"x": 1.5}, "list": [1, None]}),
    Reply(ok=False, error="nope"),
]


@pytest.fixture
def hub() -> Iterator[tuple[Bus, str]]:
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    bus = Bus.open("peer", listen=[endpoint])
    yield bus, endpoint
    bus.close()


def endpoints(hub: str) -> BusEndpoints:
    return BusEndpoints(mode="peer", connect=[hub])


def test_every_message_type_crosses_both_ways(hub: tuple[Bus, str]):
    """Python encodes, Rust decodes, checks and encodes again, Python decodes: equal."""
    bus, endpoint = hub
    echo = BusEcho(endpoints(endpoint).model_dump_json(), "compat/ping", "compat/pong")
    got: list[BusMessage] = []
    try:
        bus.subscribe("compat/pong", lambda m, k: got.append(m))
        heard(bus, "compat/ping")
        for message in EVERY_TYPE:
            bus.publish("compat/ping", message)
        wait_until(lambda: len(got) == len(EVERY_TYPE), 10, what="every echo", show=lambda: got)
        assert got == EVERY_TYPE
        assert {m.type for m in got} == {m.type for m in EVERY_TYPE}
    finally:
        echo.close()


def test_what_python_refuses_rust_refuses_too(hub: tuple[Bus, str]):
    bus, endpoint = hub
    echo = BusEcho(endpoints(endpoint).model_dump_json(), "compat/ping", "compat/pong")
    got: list[BusMessage] = []
    raw = bus.session.declare_publisher("compat/ping")
    try:
        bus.subscribe("compat/pong", lambda m, k: got.append(m))
        heard(bus, "compat/ping")
        fill = json.loads(EVERY_TYPE[2].model_dump_json())
        bad: list[dict[str, Any] | str] = [
            fill | {"quantity": -1}, fill | {"price": 0}, fill | {"side": "hold"},
            fill | {"extra": 1}, fill | {"ts": "yesterday"}, fill | {"type": "nonsense"},
            fill | {"trace_id": "x" * 65}, "not json", '{"type": "fill"}',
        ]  # fmt: skip
        for item in bad:
            raw.put(item if isinstance(item, str) else json.dumps(item))
        raw.put(json.dumps(fill | {"price": 1e400}).replace("Infinity", "1e400"))
        bus.publish("compat/ping", EVERY_TYPE[0])
        wait_until(lambda: got, 10, what="the valid message's echo")
        assert got == [EVERY_TYPE[0]]
    finally:
        raw.undeclare()
        echo.close()


LIMITS = BreakerLimits(max_drawdown=0.10, daily_loss_limit=50_000, strategy_loss_limit=1_000)


@pytest.fixture
def guarded(hub: tuple[Bus, str]) -> Iterator[tuple[Gateway, FastPath, Bus, list[StateChange]]]:
    bus, endpoint = hub
    gateway = Gateway(limits(), clock=lambda: T0)
    gateway.set_reference("paper", "BTC/USD", 30_000.0)
    config = FastPathConfig(bus=endpoints(endpoint), limits=LIMITS, deadman_reduce_after_s=0.4,
                            deadman_halt_after_s=0.8, heartbeat_interval_s=0.05)  # fmt: skip
    fast = FastPath(gateway, config)
    changes: list[StateChange] = []
    bus.subscribe(Keys.health("execution"), lambda m, k: changes.append(m))  # type: ignore[arg-type]
    heartbeats: list[Heartbeat] = []
    bus.subscribe(Keys.health("fast-path"), lambda m, k: heartbeats.append(m))  # type: ignore[arg-type]
    wait_until(lambda: heartbeats, 10, what="the fast path's heartbeat")
    for key in (Keys.fills("x"), Keys.RISK_COMMANDS, Keys.health("risk"), "desk/md/x/y"):
        heard(bus, key)
    yield gateway, fast, bus, changes
    fast.close()
    gateway.close()


def fill(equity: float, **changes: Any) -> FillEvent:
    base: dict[str, Any] = {
        "order_id": "o", "strategy_id": "momentum", "instrument": "paper:BTC/USD",
        "side": "buy", "quantity": 1.0, "price": 30_000.0, "fee": 0.0, "position_after": 1.0,
        "equity": equity,
    }  # fmt: skip
    return FillEvent.model_validate(base | changes)


def test_the_kill_switch_halts_from_rust_and_only_a_human_lifts_it(guarded):
    gateway, fast, bus, changes = guarded
    command = RiskCommand(action="kill_switch", reason="test breach")
    bus.publish(Keys.RISK_COMMANDS, command)
    wait_until(lambda: gateway.trading_state is TradingState.HALTED, 5, what="the halt")
    assert gateway.check(order()).reason_codes == ("TRADING_HALTED",)
    wait_until(lambda: changes, 5, what="the halt on the bus")
    assert [(c.state, c.actor, c.trace_id) for c in changes] == [
        ("halted", "risk", command.trace_id)
    ]
    # The engine took the move into its events, marked as already told.
    wait_until(
        lambda: any(e.get("kind") == "gate.trading_state" for e in gateway.recent_events),
        5,
        what="the engine's event",
    )
    event = next(e for e in gateway.recent_events if e.get("kind") == "gate.trading_state")
    assert (event["state"], event["announced"], event["reason"]) == ("halted", True, "test breach")
    # A second kill switch changes nothing and says nothing.
    bus.publish(Keys.RISK_COMMANDS, RiskCommand(action="kill_switch", reason="again"))
    wait_until(lambda: fast.stats()["received"] >= 2, 5, what="the second command")
    assert fast.stats()["trips"] == 1
    gateway.rearm("human:alice", "reviewed")
    assert gateway.trading_state is TradingState.ACTIVE
    assert gateway.check(order()).verdict.value == "ACCEPT"


def test_a_drawdown_fill_kills_and_counts_afresh_after_a_rearm(guarded):
    gateway, fast, bus, changes = guarded
    bus.publish(Keys.fills("x"), fill(1_000_000))
    breach = fill(899_000, side="sell", position_after=0.0)
    bus.publish(Keys.fills("x"), breach)
    wait_until(lambda: changes, 5, what="the breaker's halt")
    assert gateway.trading_state is TradingState.HALTED
    assert (changes[0].actor, changes[0].trace_id) == ("breaker", breach.trace_id)
    assert changes[0].reason.startswith("drawdown 10.1%")
    gateway.rearm("human:alice", "reviewed")
    # The peak counts from the rearm: the same equity again is no drawdown.
    bus.publish(Keys.fills("x"), fill(899_000))
    bus.publish(Keys.fills("x"), fill(880_000, side="sell", position_after=0.0))
    wait_until(lambda: fast.stats()["received"] >= 4, 5, what="the fills")
    assert gateway.trading_state is TradingState.ACTIVE
    assert fast.stats()["trips"] == 1


def test_the_days_loss_reduces_the_account(guarded):
    gateway, _fast, bus, changes = guarded
    bus.publish(Keys.fills("x"), fill(1_000_000))
    bus.publish(Keys.fills("x"), fill(949_000))
    wait_until(lambda: changes, 5, what="the breaker's reduce")
    assert gateway.trading_state is TradingState.REDUCING
    assert changes[0].state == "reducing"
    assert "REDUCING_ONLY" in gateway.check(order()).reason_codes


def test_a_strategy_past_its_loss_limit_halts_at_the_marks(guarded):
    gateway, _fast, bus, changes = guarded
    bus.publish(Keys.fills("x"), fill(1_000_000, quantity=1.0, price=30_000.0))
    bar = MarketBar(instrument="paper:BTC/USD", interval="1m", bar_ts=datetime.now(UTC),
                    open=28_900, high=29_000, low=28_800, close=28_900, volume=1.0)  # fmt: skip
    bus.publish("desk/md/paper/BTC_USD", bar)
    wait_until(lambda: changes, 5, what="the strategy's halt")
    assert (changes[0].scope, changes[0].state) == ("strategy:momentum", "halted")
    assert "at the latest marks" in changes[0].reason
    assert gateway.check(order(strategy="momentum")).reason_codes == ("STRATEGY_HALTED",)
    assert gateway.trading_state is TradingState.ACTIVE
    wait_until(lambda: gateway.strategy_state("momentum") is TradingState.HALTED, 5, what="applied")


def test_the_dead_man_steps_down_when_risk_falls_silent(guarded):
    gateway, fast, bus, changes = guarded
    assert fast.stats()["deadman_armed"] == 0
    bus.publish(Keys.health("risk"), Heartbeat(agent="risk", seq=0, pid=1))
    wait_until(lambda: [c.state for c in changes] == ["reducing", "halted"], 5, what="both steps")
    assert all(c.actor == "deadman" for c in changes)
    assert gateway.trading_state is TradingState.HALTED


def test_malformed_messages_leave_the_fast_path_and_the_gate_as_they_were(guarded):
    gateway, fast, bus, changes = guarded
    raw = bus.session.declare_publisher(Keys.RISK_COMMANDS)
    try:
        raw.put(b'{"type":"risk_command","action":"kill_switch","reason":""}')
        raw.put(b'{"type":"risk_command","action":"nuke","reason":"x"}')
        raw.put(b"\xff\xfe garbage")
        wait_until(lambda: fast.stats()["dropped"] == 3, 5, what="three refusals")
    finally:
        raw.undeclare()
    assert gateway.trading_state is TradingState.ACTIVE
    assert fast.stats()["trips"] == 0
    assert changes == []


def trade(price: float) -> Trade:
    return Trade(venue_id="paper", symbol="BTC/USD", ts=T0, trade_id=uuid4().hex, price=price,
                 quantity=10.0)  # fmt: skip


def test_the_engines_own_fills_trip_the_breaker_inside_the_call(guarded):
    """A fill the gate books reaches the breakers before the call that booked it returns: the
    very next check refuses, with no bus and no wait between."""
    gateway, fast, bus, changes = guarded
    gateway.on_trade(trade(30_000.0))
    buy = gateway.submit(order(Side.BUY, 1.0, None))
    assert buy.accepted
    # The same fill heard again on the bus (execution publishes it) is not counted twice:
    # as a second fill it would make a loss past the limit here.
    echo = fill(1e6, order_id=str(buy.order_id), side="sell", price=20_000.0, position_after=0)
    bus.publish(Keys.fills("momentum"), echo)
    wait_until(lambda: fast.stats()["received"] >= 1, 5, what="the bus copy")
    assert gateway.check(order(Side.BUY, 0.1, None)).accepted
    gateway.on_trade(trade(28_000.0))
    assert gateway.submit(order(Side.SELL, 1.0, None)).accepted
    assert gateway.check(order(Side.BUY, 0.1, None)).reason_codes == ("STRATEGY_HALTED",)
    assert gateway.strategy_state("momentum") is TradingState.HALTED
    assert fast.stats()["own_fills"] == 2
    assert gateway.check(order(Side.BUY, 0.1, None, strategy="mean_reversion")).accepted
    wait_until(lambda: changes, 5, what="the halt on the bus")
    assert (changes[0].scope, changes[0].actor) == ("strategy:momentum", "breaker")


def test_the_gates_decisions_and_fills_go_out_from_rust_under_the_callers_trace(guarded):
    gateway, fast, bus, _changes = guarded
    heard: list[BusMessage] = []
    bus.subscribe(Keys.ALL_ORDERS, lambda m, k: heard.append(m))
    bus.subscribe(Keys.ALL_FILLS, lambda m, k: heard.append(m))
    gateway.trace_source = lambda: "request-42"
    gateway.on_trade(trade(30_000.0))
    buy = gateway.submit(order(Side.BUY, 0.5, None))
    denied = gateway.submit(order(Side.BUY, 1e6, None))
    assert buy.accepted
    assert not denied.accepted
    wait_until(lambda: len(heard) >= 3, 5, what="two decisions and a fill", show=lambda: heard)
    orders = [m for m in heard if isinstance(m, OrderEvent)]
    fills = [m for m in heard if isinstance(m, FillEvent)]
    assert [(o.order_id, o.verdict) for o in orders] == [
        (str(buy.order_id), "ACCEPT"), (str(denied.order_id), "DENY"),
    ]  # fmt: skip
    assert orders[1].reasons == list(denied.reason_codes)
    assert sum(f.quantity for f in fills) == pytest.approx(0.5)
    assert fills[-1].position_after == pytest.approx(0.5)
    assert fills[-1].equity == pytest.approx(gateway.equity)
    assert {m.trace_id for m in heard} == {"request-42"}
    assert {(f.strategy_id, f.instrument, f.side) for f in fills} == {
        ("momentum", "paper:BTC/USD", "buy")
    }
    # Its own fills, heard back on the bus, are not counted again.
    assert fast.stats()["own_fills"] == len(fills)
    assert fast.stats()["trips"] == 0
