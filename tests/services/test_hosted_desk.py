"""`quantdesk serve` with its agent services on the bus: the PM graph and the execution service
share one desk, so an order the graph makes reaches risk like any other, risk's commands act
on the graph's positions, and the dead-man switch guards the served desk too."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.bus import Bus, BusError, FillEvent, Keys, MarketBar, RiskCommand, StateChange
from core.logs import trace_id_var
from core.models.trading import TradingState
from core.settings import Settings
from core.store import AuditLog, MarketDataStore
from interfaces.api.keys import KeyRing
from interfaces.server import Server, build, serve_in_background
from tests.services.conftest import state, ticks_of
from tests.waiting import wait_until

BTC = ("bitstamp", "BTC/USD")


@pytest.fixture
def served(desk_dir: Path, hub: str, tight_limits: Path) -> Iterator[Server]:
    settings = Settings(
        data_dir=desk_dir, bus_hub=hub, limits_path=tight_limits, log_json=False,
        heartbeat_interval_s=0.1, deadman_reduce_after_s=1.0, deadman_halt_after_s=2.5,
    )  # fmt: skip
    server = build(settings, schedule=False, bus=True)
    try:
        yield server
    finally:
        server.close()


def gate_state(server: Server) -> TradingState:
    return server.host.read(lambda desk: desk.gateway.trading_state)


def audit_count(server: Server) -> int:
    """The desk's lock is re-entrant: the test may read while it holds it."""
    return server.host.read(lambda desk: AuditLog(desk.store).count("gate.trading_state"))


def held(server: Server) -> float:
    positions = server.host.read(lambda desk: desk.gateway.positions())
    return sum(p.quantity for p in positions if (p.venue_id, p.symbol) == BTC)


def test_the_graphs_orders_reach_risk_and_risk_reduces_them(served: Server, peer: Bus):
    assert served.services is not None
    wait_until(lambda: gate_state(served) is TradingState.ACTIVE, 15, what="the gate active")
    fills: list[FillEvent] = []
    commands: list[RiskCommand] = []
    peer.subscribe(Keys.ALL_FILLS, lambda m, k: fills.append(m))  # type: ignore[arg-type]
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))  # type: ignore[arg-type]
    assert state(peer).body["state"] == "active"  # this peer has reached the hub

    token = trace_id_var.set("request-7f3a")  # as the API binds a request's id
    try:
        turn = served.host.ask("buy 2.5 BTC", "hosted-1")
        if turn.pending is not None:  # above the approval threshold: a human says yes
            turn = served.host.answer("hosted-1", "approve", "alice", "test")
    finally:
        trace_id_var.reset(token)
    assert held(served) > 0, turn

    # The graph's fill went out on the bus, risk saw the gross-exposure breach, execution
    # cut the graph's own position in half.
    wait_until(
        lambda: abs(held(served) - 1.25) < 1e-9,
        10,
        what="the position halved",
        show=lambda: held(served),
    )
    assert [c.action for c in commands][:1] == ["reduce"]
    assert "gross exposure" in commands[0].reason
    bought = [f for f in fills if f.side == "buy"]
    assert bought
    assert bought[0].position_after == pytest.approx(2.5)
    assert any(f.side == "sell" and f.position_after == pytest.approx(1.25) for f in fills)
    # One trace joins the request, the graph's order, risk's command and the reducing order.
    assert {f.trace_id for f in fills} == {"request-7f3a"}
    assert commands[0].trace_id == "request-7f3a"


def test_the_dead_man_switch_guards_the_served_desk(served: Server, peer: Bus):
    assert served.services is not None
    wait_until(lambda: gate_state(served) is TradingState.ACTIVE, 15, what="the gate active")
    changes: list[StateChange] = []
    peer.subscribe(
        Keys.health("execution"),
        lambda m, k: changes.append(m) if isinstance(m, StateChange) else None,
    )
    assert state(peer).body["state"] == "active"
    risk = next(s for s in served.services.services if s.name == "risk")
    with served.host.lock:  # a PM turn in progress does not hold the switch back
        risk.stopping.set()  # its heartbeats stop; the rest of the desk goes on
        stopped = time.monotonic()
        wait_until(lambda: gate_state(served) is TradingState.REDUCING, 5, what="the gate reducing")
        assert time.monotonic() - stopped <= 1.0 + 0.5
        wait_until(lambda: gate_state(served) is TradingState.HALTED, 5, what="the gate halted")
    turn = served.host.ask("buy 0.1 BTC", "hosted-2")
    assert held(served) == 0, turn.answers
    wait_until(
        lambda: [c.state for c in changes][-2:] == ["reducing", "halted"],
        5,
        what="the moves on the bus",
        show=lambda: changes,
    )
    assert all(c.actor == "deadman" for c in changes[-2:])


def test_execution_publishes_the_bars_its_gate_trades_against(served: Server, peer: Bus):
    bars: list[MarketBar] = []
    peer.subscribe(Keys.ALL_MARKET_DATA, lambda m, k: bars.append(m))  # type: ignore[arg-type]
    state(peer)

    # New data reaches the gate the way ingestion delivers it: the desk primes the venue.
    # Priming again feeds the same last bars: the subscription's first moments on the hub
    # can miss one (CI saw 4 of 5 once), so the test primes until five have arrived.
    def five_bars() -> bool:
        if len(bars) < 5:
            served.host.read(lambda desk: desk.prime())
        return len(bars) >= 5

    wait_until(five_bars, 10, what="five bars on the bus", step=1.0, show=lambda: len(bars))
    stored = served.host.read(
        lambda desk: MarketDataStore(desk.store).read_bars(*BTC, "1d").tail(5)
    )
    assert [b.close for b in bars[-5:]] == stored["close"].tolist()
    assert {b.instrument for b in bars} == {"bitstamp:BTC/USD"}


def test_a_kill_switch_does_not_wait_for_a_pm_turn(
    served: Server, peer: Bus, monkeypatch: pytest.MonkeyPatch
):
    """A PM turn holds the desk's lock for as long as it runs (a backtest: seconds). Risk's
    kill switch halts the gate, and says so, while the turn still runs; the audit record is
    written once the turn lets go."""
    wait_until(lambda: gate_state(served) is TradingState.ACTIVE, 15, what="the gate active")
    assert state(peer).body["state"] == "active"
    audited = audit_count(served)
    assert served.services is not None
    execution = next(s for s in served.services.services if s.name == "execution")
    ticks = ticks_of(execution, monkeypatch)
    halted: list[StateChange] = []
    peer.subscribe(
        Keys.health("execution"),
        lambda m, k: halted.append(m) if isinstance(m, StateChange) else None,
    )
    with served.host.lock:  # a turn in progress
        peer.publish(Keys.RISK_COMMANDS, RiskCommand(action="kill_switch", reason="test breach"))
        wait_until(lambda: gate_state(served) is TradingState.HALTED, 2, what="the gate halted")
        wait_until(lambda: [c.state for c in halted] == ["halted"], 2, what="the halt on the bus")
        # Execution's loop tries to write the audit record each tick, without waiting for
        # the lock: two ticks from here, it has tried at least once.
        since = ticks()
        wait_until(lambda: ticks() >= since + 2, 5, what="two ticks of execution's loop")
        assert audit_count(served) == audited, "no store write while the turn runs"
    wait_until(lambda: audit_count(served) == audited + 1, 5, what="the audit record")


def test_the_cockpit_sees_the_services_and_hears_a_halt_made_on_the_bus(served: Server, peer: Bus):
    """The agents panel lists the bus services with the heartbeat ages the monitor hears, and
    a halt that risk orders on the bus (outside any PM turn) reaches the page's change
    stream."""
    wait_until(lambda: gate_state(served) is TradingState.ACTIVE, 15, what="the gate active")
    keys = "viewer:viewer:viewer-key-0123456789"
    served.app.state.keys = KeyRing(keys)
    heard: list[list[str]] = []
    with serve_in_background(served.app) as url:
        headers = {"X-API-Key": "viewer-key-0123456789"}

        def services() -> dict[str, float | None]:
            bus = httpx.get(f"{url}/v1/agents", headers=headers).json()["bus"]
            return {s["name"]: s["heartbeat_age_s"] for s in bus["services"]}

        wait_until(
            lambda: (ages := services()).keys() >= {"execution", "risk", "monitor"}
            and all(ages[n] is not None and ages[n] < 5 for n in ("execution", "risk")),
            10, what="heartbeats of execution and risk", show=services,
        )  # fmt: skip

        def listen() -> None:
            with httpx.stream("GET", f"{url}/v1/events", headers=headers, timeout=30) as r:
                event = ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                        if event == "hello":
                            heard.append([])
                    elif line.startswith("data: ") and event == "changed":
                        heard.append(json.loads(line[6:])["topics"])
                        if "state" in heard[-1]:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        wait_until(lambda: bool(heard), 10, what="the change stream open")
        peer.publish(Keys.RISK_COMMANDS, RiskCommand(action="kill_switch", reason="bus halt"))
        wait_until(lambda: gate_state(served) is TradingState.HALTED, 5, what="the gate halted")
        listener.join(timeout=15)
        assert any("state" in topics for topics in heard), heard


def test_a_taken_hub_port_is_a_clear_error_and_leaves_the_desk_closed(
    desk_dir: Path, hub: str
) -> None:
    """Another desk already listens on the hub endpoint: serve refuses with the endpoint in the
    message, and closes what it opened (the store can be opened again at once)."""
    settings = Settings(data_dir=desk_dir, bus_hub=hub, log_json=False)
    with Bus.open("router", listen=[hub]), pytest.raises(BusError, match=hub.split("/")[1]):
        build(settings, schedule=False, bus=True)
    server = build(settings, schedule=False, bus=False)
    server.close()
