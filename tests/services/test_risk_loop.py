"""The real-time risk loop across processes: the dead-man switch, a breach that reduces a
position on the paper venue, and only a human rearming the gate."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from core.bus import Bus, Control, Keys, OrderRequest
from tests.services.conftest import OUTPUT, Launch, state, until_gate
from tests.waiting import wait_until


@pytest.mark.parametrize("fast_path", ["true", "false"], ids=["rust-fast-path", "python"])
def test_killing_risk_moves_the_gate_to_reducing_then_halted(
    launch: Launch, peer: Bus, fast_path: str
):
    launch("execution", via_cli=True, QUANTDESK_FAST_PATH=fast_path)
    # Until risk's first heartbeat the gate only reduces.
    assert state(peer).body["state"] == "reducing"
    risk = launch("risk", via_cli=True)
    until_gate(peer, "active", 10)
    risk.send_signal(signal.SIGKILL)
    risk.wait(timeout=10)
    killed = time.monotonic()
    until_gate(peer, "reducing", 5)
    to_reducing = time.monotonic() - killed
    until_gate(peer, "halted", 5)
    to_halted = time.monotonic() - killed - to_reducing
    print(f"reducing after {to_reducing:.2f} s, halted {to_halted:.2f} s later")
    assert to_reducing <= 1.0 + 0.5  # the configured 1.0 s, plus a tick and a request
    # Halted: a new order is refused by the gate.
    refused = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=0.1, symbol="BTC", requested_by="test"),
    )
    assert refused.body["verdict"] == "DENY"
    # Risk coming back does not restore ACTIVE; an agent cannot; a named human can.
    launch("risk")
    assert state(peer).body["state"] == "halted"
    by_agent = peer.request(
        Keys.rpc("execution", "control"), Control(action="rearm", actor="risk", reason="back")
    )
    assert not by_agent.ok
    assert "human" in (by_agent.error or "")
    by_human = peer.request(
        Keys.rpc("execution", "control"),
        Control(action="rearm", actor="human:alice", reason="risk service restarted"),
    )
    assert by_human.ok
    assert by_human.body["state"] == "active"


def test_a_breach_makes_risk_reduce_the_position(launch: Launch, peer: Bus, tight_limits: Path):
    launch("execution", QUANTDESK_LIMITS_PATH=str(tight_limits))
    launch("risk", QUANTDESK_LIMITS_PATH=str(tight_limits))
    until_gate(peer, "active", 10)
    commands = []
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))
    bought = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=2.5, symbol="BTC", strategy_id="momentum",
                     requested_by="test"),
    )  # fmt: skip
    assert bought.body["verdict"] == "ACCEPT", bought
    assert bought.body["filled"] == 2.5
    wait_until(
        lambda: state(peer).body["positions"].get("bitstamp:BTC/USD") == 1.25,
        5,
        what="risk's reduce halving the position",
        show=lambda: state(peer).body,
    )
    assert [c.action for c in commands] == ["reduce"]
    assert "gross exposure" in commands[0].reason
    assert state(peer).body["state"] == "active"


def test_trace_ids_join_the_request_the_log_and_the_order(launch: Launch, peer: Bus):
    launch("execution", QUANTDESK_LOG_JSON="true")
    launch("risk")
    until_gate(peer, "active", 15)
    orders = []
    peer.subscribe(Keys.ALL_ORDERS, lambda m, k: orders.append(m))
    request = OrderRequest(side="buy", quantity=0.1, symbol="BTC", requested_by="test")
    reply = peer.request(Keys.rpc("execution", "submit"), request)
    assert reply.trace_id == request.trace_id
    order_id = reply.body["order_id"]
    wait_until(lambda: any(o.order_id == order_id for o in orders), 5, what="the order's event")
    assert next(o for o in orders if o.order_id == order_id).trace_id == request.trace_id

    def logged() -> list[dict]:
        lines = [json.loads(x) for x in OUTPUT.get("execution", []) if x.startswith("{")]
        return [e for e in lines if e.get("trace_id") == request.trace_id]

    wait_until(lambda: any(order_id in e["msg"] for e in logged()), 5, what="the order's log line")
    entry = next(e for e in logged() if order_id in e["msg"])
    assert entry["service"] == "quantdesk"
    assert "ACCEPT" in entry["msg"]


def test_all_agents_in_one_process_run_the_same_loop(launch: Launch, peer: Bus, tight_limits: Path):
    """`quantdesk agent all`: the same services and bus, in one process."""
    launch("all", QUANTDESK_LIMITS_PATH=str(tight_limits))
    until_gate(peer, "active", 15)
    bought = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=2.5, symbol="BTC", strategy_id="momentum",
                     requested_by="test"),
    )  # fmt: skip
    assert bought.body["filled"] == 2.5
    wait_until(
        lambda: state(peer).body["positions"].get("bitstamp:BTC/USD") == 1.25,
        5,
        what="risk's reduce halving the position",
        show=lambda: state(peer).body,
    )


def test_a_strategy_past_its_loss_limit_is_halted_and_others_trade_on(launch: Launch, peer: Bus):
    """A round trip costs spread, slippage and two fees (about 54 USD on 1 BTC here): with a
    40 USD limit, risk halts that strategy alone."""
    launch("execution")
    launch("risk", QUANTDESK_RISK_STRATEGY_LOSS_LIMIT="40")
    until_gate(peer, "active", 10)
    commands = []
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))

    sent: list[OrderRequest] = []

    def send(side: str, strategy: str) -> dict:
        sent.append(OrderRequest(side=side, quantity=1, symbol="BTC", strategy_id=strategy,
                                 requested_by="test"))  # fmt: skip
        return peer.request(Keys.rpc("execution", "submit"), sent[-1]).body

    assert send("buy", "momentum")["verdict"] == "ACCEPT"
    assert send("sell", "momentum")["verdict"] == "ACCEPT"
    wait_until(lambda: commands, 5, what="a command from risk")
    assert [c.action for c in commands] == ["halt_strategy"]
    # Risk hears a strategy's fills in order and its commands arrive in order: the halt
    # answers the sell's fill (it carries that trace), so the buy alone, one fee under the
    # limit, made none.
    assert commands[0].trace_id == sent[1].trace_id
    assert commands[0].strategy_id == "momentum"
    assert "strategy momentum lost" in commands[0].reason
    wait_until(
        lambda: send("buy", "momentum")["reasons"] == ["STRATEGY_HALTED"],
        5,
        what="the gate refusing the halted strategy",
    )
    assert send("buy", "manual")["verdict"] == "ACCEPT"
    assert send("buy", "mean_reversion")["verdict"] == "ACCEPT"
    body = state(peer).body
    assert body["state"] == "active"
    # The account's position sums the strategies: momentum is flat, the other two hold 1 each.
    assert body["positions"]["bitstamp:BTC/USD"] == 2.0


def test_services_in_client_mode_reach_the_hub(launch: Launch, peer: Bus, tight_limits: Path):
    """Risk as a Zenoh client of execution's router (QUANTDESK_BUS_MODE=client): its heartbeats
    clear the dead-man switch and its reduce command reaches execution."""
    launch("execution", QUANTDESK_LIMITS_PATH=str(tight_limits))
    launch("risk", QUANTDESK_LIMITS_PATH=str(tight_limits), QUANTDESK_BUS_MODE="client")
    until_gate(peer, "active", 10)
    bought = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=2.5, symbol="BTC", requested_by="test"),
    )
    assert bought.body["verdict"] == "ACCEPT", bought
    wait_until(
        lambda: state(peer).body["positions"].get("bitstamp:BTC/USD") == 1.25,
        5,
        what="risk's reduce halving the position",
        show=lambda: state(peer).body,
    )


def test_volatility_past_the_limit_makes_risk_reduce(launch: Launch, peer: Bus):
    """Risk reads the daily closes execution marks to, and 1 BTC at Bitstamp's realised
    volatility (tens of percent a year) is far above a 1,000 USD dollar-volatility limit."""
    launch("execution")
    launch("risk", QUANTDESK_RISK_MAX_DOLLAR_VOLATILITY="1000", QUANTDESK_RISK_MARKS_POLL_S="0.3")
    until_gate(peer, "active", 10)
    commands = []
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))
    bought = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=1, symbol="BTC", requested_by="test"),
    )
    assert bought.body["verdict"] == "ACCEPT", bought
    wait_until(
        lambda: any("dollar volatility" in c.reason for c in commands),
        10,
        what="a dollar-volatility command",
        show=lambda: commands,
    )
    first = next(c for c in commands if "dollar volatility" in c.reason)
    assert first.action == "reduce"
    dollar_vol = float(first.reason.split()[2].replace(",", ""))
    assert 1_000 < dollar_vol < 1 * 40_000 * 3, "1 BTC times a volatility below 300% a year"
    wait_until(
        lambda: state(peer).body["positions"].get("bitstamp:BTC/USD", 1) <= 0.5,
        10,
        what="risk's reduce",
        show=lambda: state(peer).body,
    )
