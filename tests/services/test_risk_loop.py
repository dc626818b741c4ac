"""The real-time risk loop across processes: the dead-man switch, a breach that reduces a
position on the paper venue, and only a human rearming the gate."""

from __future__ import annotations

import signal
from pathlib import Path

from core.bus import Bus, Control, Keys, OrderRequest
from tests.services.conftest import Launch, state, wait_for


def test_killing_risk_moves_the_gate_to_reducing_then_halted(launch: Launch, peer: Bus):
    launch("execution")
    # Until risk's first heartbeat the gate only reduces.
    assert state(peer).body["state"] == "reducing"
    risk = launch("risk")
    wait_for(lambda: state(peer).body["state"] == "active", 10)
    risk.send_signal(signal.SIGKILL)
    risk.wait(timeout=10)
    to_reducing = wait_for(lambda: state(peer).body["state"] == "reducing", 5)
    to_halted = wait_for(lambda: state(peer).body["state"] == "halted", 5)
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
    wait_for(lambda: state(peer).body["state"] == "active", 10)
    commands = []
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))
    bought = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=2.5, symbol="BTC", strategy_id="momentum",
                     requested_by="test"),
    )  # fmt: skip
    assert bought.body["verdict"] == "ACCEPT", bought
    assert bought.body["filled"] == 2.5
    wait_for(lambda: state(peer).body["positions"].get("bitstamp:BTC/USD") == 1.25, 5)
    assert [c.action for c in commands] == ["reduce"]
    assert "gross exposure" in commands[0].reason
    assert state(peer).body["state"] == "active"
