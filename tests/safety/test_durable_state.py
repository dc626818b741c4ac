"""A halt outlives the process that made it: a CLI one-shot, a desk session, and `quantdesk
serve` killed with SIGKILL all come back HALTED, and only a human's re-arm lifts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from core.models.trading import TradingState
from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from tests.fakes.loopback import free_port
from tests.safety.conftest import ROOT
from tests.waiting import wait_until


def cli(desk_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env |= {"QUANTDESK_DATA_DIR": str(desk_dir), "QUANTDESK_LOG_JSON": "false", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_a_halt_from_one_cli_process_denies_the_next_process_s_order(desk_dir: Path):
    halted = cli(desk_dir, "ask", "halt everything")
    assert halted.returncode == 0, halted.stdout + halted.stderr
    assert "HALTED" in halted.stdout
    bought = cli(desk_dir, "ask", "buy 0.01 BTC")
    assert bought.returncode == 0, bought.stdout + bought.stderr
    assert "TRADING_HALTED" in bought.stdout
    assert "filled 0" in bought.stdout
    shown = cli(desk_dir, "gateway", "state")
    assert "HALTED" in shown.stdout
    assert "halt everything" in shown.stdout
    # Only a named human lifts it, and the CLI says so in one line.
    nameless = cli(desk_dir, "gateway", "rearm", "--by", "", "--reason", "x")
    assert nameless.returncode == 2
    assert "REARM_REFUSED" in nameless.stdout
    assert "Traceback" not in nameless.stdout + nameless.stderr
    rearmed = cli(desk_dir, "gateway", "rearm", "--by", "alice", "--reason", "book checked")
    assert rearmed.returncode == 0, rearmed.stdout + rearmed.stderr
    assert "filled 0.01" in cli(desk_dir, "ask", "buy 0.01 BTC").stdout


def test_only_a_human_rearm_lifts_a_restored_halt(desk_dir: Path):
    settings = Settings(data_dir=desk_dir, log_json=False)
    with DeskSession(settings) as session:
        session.ask("halt everything", "h")
    with DeskSession(settings) as session:
        gateway = session.desk.gateway
        assert gateway.trading_state is TradingState.HALTED
        assert session.ask("buy 0.01 BTC", "t").results["execution"]["reasons"] == [
            "TRADING_HALTED"
        ]
        gateway.rearm("human:alice", "checked the book after the halt")
    with DeskSession(settings) as session:
        assert session.desk.gateway.trading_state is TradingState.ACTIVE
        assert session.ask("buy 0.01 BTC", "t2").results["execution"]["status"] == "filled"


def test_a_strategy_halt_and_an_account_reduce_survive_a_restart(desk_dir: Path):
    settings = Settings(data_dir=desk_dir, log_json=False)
    with DeskSession(settings) as session:
        gateway = session.desk.gateway
        gateway.set_trading_state(TradingState.HALTED, "risk", "loss limit", strategy_id="manual")
        gateway.set_trading_state(TradingState.REDUCING, "risk", "volatility")
    with DeskSession(settings) as session:
        gateway = session.desk.gateway
        assert gateway.strategy_state("manual") is TradingState.HALTED
        assert gateway.trading_state is TradingState.REDUCING
        restored = session.store.client.query(
            "SELECT payload FROM audit_log WHERE kind = 'gateway.restored'"
        ).result_rows
        assert restored
        assert "strategy:manual=halted" in restored[-1][0]


def _serve(desk_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env |= {
        "QUANTDESK_DATA_DIR": str(desk_dir), "QUANTDESK_LOG_JSON": "false",
        "QUANTDESK_BUS_HUB": f"tcp/127.0.0.1:{free_port()}",
    }  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def _up(url: str, server: subprocess.Popen[str]) -> bool:
    assert server.poll() is None, "serve exited"
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_killed_after_a_halt_comes_back_halted(desk_dir: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(desk_dir, port)
    try:
        wait_until(lambda: _up(url, server), 120, step=0.1, what=f"serve's page at {url}")
        key = {"X-API-Key": (desk_dir / "api-key").read_text().strip()}
        state = lambda: httpx.get(f"{url}/v1/health", headers=key).json()["gateway_state"]  # noqa: E731
        wait_until(lambda: state() == "active", 60, step=0.1, what="the gate active")
        halt = httpx.post(f"{url}/v1/gateway/halt", headers=key, json={"reason": "drill"})
        assert halt.status_code == 200
        assert halt.json()["trading_state"] == "halted"
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        server = _serve(desk_dir, port)
        wait_until(lambda: _up(url, server), 120, step=0.1, what="serve's page, restarted")
        # Risk's heartbeats arrive, and still nothing lifts the halt but a human.
        wait_until(
            lambda: httpx.get(f"{url}/v1/health", headers=key).status_code == 200,
            60,
            step=0.1,
            what="the health view",
        )
        assert state() == "halted"
        chat = httpx.post(
            f"{url}/v1/chat/k", headers=key, json={"message": "buy 0.01 BTC"}, timeout=120
        )
        assert chat.status_code == 200
        assert "TRADING_HALTED" in chat.text
        assert state() == "halted"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)


# A kill switch pulled while a PM turn holds the store (`wait=False`, as the API's halt and
# risk's breaker do): the halt is journaled at once, its audit row waits for the store. The
# process is killed before the row is written.
_HALT_WHILE_HELD = """
import os, signal, sys, threading
from pathlib import Path
from core.settings import Settings
from graph.session import DeskSession
session = DeskSession(Settings(data_dir=Path(sys.argv[1]), log_json=False))
gateway = session.desk.gateway
held, never = threading.Event(), threading.Event()
def turn():  # another thread holds the store, as a PM turn does
    with gateway.store_lock:
        held.set()
        never.wait()
threading.Thread(target=turn, daemon=True).start()
held.wait()
gateway.kill_switch("human:bob", "drill while a turn holds the desk", wait=False)
print(gateway.trading_state.value, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_halt_killed_before_its_audit_row_is_written_comes_back_halted_and_recorded(
    desk_dir: Path,
):
    killed = _killed(desk_dir, _HALT_WHILE_HELD)
    assert killed.stdout.strip() == "halted"
    _back_halted_and_recorded(desk_dir, "drill while a turn holds the desk", "human:bob")


def _killed(
    desk_dir: Path, script: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `script` on the desk until it is killed (SIGKILL), with none of this shell's
    QUANTDESK_ settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")} | env
    killed = subprocess.run(
        [sys.executable, "-c", script, str(desk_dir), *args],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    return killed


def _back_halted_and_recorded(desk_dir: Path, *recorded: str) -> None:
    """The halt's audit row was never written before the kill; the restart is HALTED,
    records the halt it restored (with each of `recorded`), and refuses an order."""
    audit = "SELECT payload FROM audit_log WHERE kind = 'gate.trading_state'"
    with Store(f"chdb://{desk_dir / 'clickhouse'}") as store:
        assert not store.client.query(audit).result_rows
    settings = Settings(data_dir=desk_dir, log_json=False)
    with DeskSession(settings) as session:
        assert session.desk.gateway.trading_state is TradingState.HALTED
        rows = session.store.client.query(audit).result_rows
        for text in recorded:
            assert any(text in r[0] for r in rows), rows
        assert session.ask("buy 0.01 BTC", "t").results["execution"]["reasons"] == [
            "TRADING_HALTED"
        ]


# The fast path halts the gate from a Rust thread (risk's kill switch on the bus) while a PM
# turn holds the store; its apply thread journals the move and the process dies right there
# (QUANTDESK_CRASH_AT=latch.applied), before the audit row could be written.
_FAST_HALT_WHILE_HELD = """
import sys, threading, time
from pathlib import Path
from core.bus import Bus, Keys, RiskCommand
from core.settings import Settings
from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
from graph.session import DeskSession
from tests.services.conftest import heard
session = DeskSession(Settings(data_dir=Path(sys.argv[1]), log_json=False))
gateway = session.desk.gateway
hub = sys.argv[2]
bus = Bus.open("peer", listen=[hub])
config = FastPathConfig(
    bus=BusEndpoints(mode="peer", connect=[hub]),
    limits=BreakerLimits(max_drawdown=0.1, daily_loss_limit=1e6, strategy_loss_limit=1e6),
    deadman_reduce_after_s=60, deadman_halt_after_s=120,
)
fast = FastPath(gateway, config)
heard(bus, Keys.RISK_COMMANDS)
held = threading.Event()
def turn():  # another thread holds the store, as a PM turn does
    with gateway.store_lock:
        held.set()
        time.sleep(600)
threading.Thread(target=turn, daemon=True).start()
held.wait()
bus.publish(Keys.RISK_COMMANDS, RiskCommand(action="kill_switch", reason="fast drill",
                                            issued_by="risk"))
time.sleep(60)
"""


def test_a_fast_path_halt_killed_after_its_journal_comes_back_halted_and_recorded(
    desk_dir: Path,
):
    hub = f"tcp/127.0.0.1:{free_port()}"
    _killed(desk_dir, _FAST_HALT_WHILE_HELD, hub, QUANTDESK_CRASH_AT="latch.applied")
    _back_halted_and_recorded(desk_dir, "fast drill")
