"""Bus latency between processes on loopback:

1. round trip: this process publishes a typed message, an echo process answers on another key;
   through our Bus (pydantic messages, worker-thread handlers) and, as the peer baseline, raw
   zenoh-python (bytes, handler in Zenoh's callback) in the same run;
2. breach to halt: a fill that breaches the drawdown limit is published; the risk service
   (its own process) orders the kill switch; the execution service (its own process) halts
   the gate and says so on the bus. Timed from publishing the fill to hearing the halt.
3. the served desk (`quantdesk serve` with its services): a kill switch published while a
   PM research turn holds the desk's lock, timed to hearing the halt.

Targets: round-trip p99 <= 250 us; breach-to-halt <= 10 ms.
Run: uv run python -m benchmarks.bus_latency
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zenoh

from benchmarks.timing import free_port
from core.bus import Alert, Bus, Control, FillEvent, Heartbeat, Keys, RiskCommand
from core.bus.session import config
from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from gateway import Actor
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS

ROUNDS = 5_000


def echo(endpoint: str, raw: bool) -> None:
    """Child: answer every ping with a pong until killed."""
    if raw:
        session = zenoh.open(config("peer", ["tcp/127.0.0.1:0"], [endpoint]))
        pong = session.declare_publisher("bench/raw/pong", express=True)
        session.declare_subscriber("bench/raw/ping", lambda s: pong.put(s.payload))
    else:
        bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint])
        bus.subscribe("bench/bus/ping", lambda m, k: bus.publish("bench/bus/pong", m))
    print("echo ready", flush=True)
    threading.Event().wait()


def percentiles(samples: list[float]) -> str:
    samples.sort()
    p50 = statistics.median(samples) * 1e6
    p99 = samples[int(len(samples) * 0.99) - 1] * 1e6
    return f"p50 {p50:7.1f} us  p99 {p99:7.1f} us  ({len(samples)} round trips)"


def spawn(*args: str, env: dict[str, str] | None = None, ready: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == ready:
            return process
    raise RuntimeError(f"{args} did not start")


def round_trips(raw: bool) -> str:
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    got = threading.Event()
    if raw:
        session = zenoh.open(config("peer", [endpoint], []))
        ping = session.declare_publisher("bench/raw/ping", express=True)
        session.declare_subscriber("bench/raw/pong", lambda s: got.set())
    else:
        bus = Bus.open("peer", listen=[endpoint])
        bus.subscribe("bench/bus/pong", lambda m, k: got.set())
    child = spawn("-m", "benchmarks.bus_latency", "--echo", endpoint, str(raw), ready="echo ready")
    time.sleep(1.5)
    samples = []
    try:
        for i in range(ROUNDS + 500):
            got.clear()
            start = time.perf_counter()
            if raw:
                ping.put(i.to_bytes(8, "little"))
            else:
                bus.publish("bench/bus/ping", Heartbeat(agent="bench", seq=i, pid=0))
            if not got.wait(2):
                raise RuntimeError("a ping got no pong")
            if i >= 500:
                samples.append(time.perf_counter() - start)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if raw:
            session.close()  # type: ignore[no-untyped-call]
        else:
            bus.close()
    return percentiles(samples)


def bitstamp_desk(tmp: Path) -> Path:
    """A desk data directory whose store holds Bitstamp's real daily bars."""
    data_dir = tmp / "desk"
    crypto = DATASETS["crypto"].read()
    with Store(f"chdb://{data_dir / 'clickhouse'}") as store:
        store.migrate()
        bitstamp = crypto[crypto["venue"] == "bitstamp"]
        ingest_bars(store, bitstamp, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return data_dir


def breach_to_halt(runs: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = bitstamp_desk(Path(tmp))
        hub = f"tcp/127.0.0.1:{free_port()}"
        env = os.environ | {
            "QUANTDESK_DATA_DIR": str(data_dir), "QUANTDESK_BUS_HUB": hub,
            "QUANTDESK_LOG_JSON": "false", "QUANTDESK_HEARTBEAT_INTERVAL_S": "0.1",
        }  # fmt: skip
        cli = ("-m", "agents.services")
        services = [spawn(*cli, "execution", env=env, ready="execution ready"),
                    spawn(*cli, "risk", env=env, ready="risk ready")]  # fmt: skip
        halted: dict[str, float] = {}
        rearmed = threading.Event()
        bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub])

        def on_alert(message: object, key: str) -> None:
            if isinstance(message, Alert) and message.text.startswith("gate halted"):
                halted[message.trace_id] = time.perf_counter()
            if isinstance(message, Alert) and message.text.startswith("gate active"):
                rearmed.set()

        bus.subscribe(Keys.ALL_ALERTS, on_alert)
        samples = []
        try:
            state = "reducing"
            deadline = time.monotonic() + 30
            while state != "active" and time.monotonic() < deadline:
                try:
                    asked = bus.request(Keys.rpc("execution", "control"), Control(action="state"))
                    state = str(asked.body["state"])
                except Exception:
                    time.sleep(0.2)
            for _ in range(runs):
                fill = {
                    "order_id": "bench", "strategy_id": "bench", "side": "buy",
                    "instrument": "bitstamp:BTC/USD", "quantity": 1.0, "price": 20_000.0,
                    "fee": 0.0, "position_after": 0.0,
                }  # fmt: skip
                bus.publish(
                    Keys.fills("bench"), FillEvent.model_validate(fill | {"equity": 1_000_000.0})
                )
                time.sleep(0.05)
                breach = FillEvent.model_validate(fill | {"equity": 850_000.0})
                start = time.perf_counter()
                bus.publish(Keys.fills("bench"), breach)
                while breach.trace_id not in halted and time.perf_counter() - start < 2:
                    time.sleep(0.0002)
                samples.append(halted[breach.trace_id] - start)
                rearmed.clear()
                rearm = Control(action="rearm", actor="human:bench", reason="benchmark")
                bus.request(Keys.rpc("execution", "control"), rearm)
                rearmed.wait(2)
                time.sleep(0.1)
        finally:
            bus.close()
            for s in services:
                s.send_signal(signal.SIGTERM)
            for s in services:
                s.wait(timeout=30)
        samples.sort()
        print(f"breach to halt (fill -> risk -> kill switch -> execution halted -> alert): "
              f"p50 {statistics.median(samples) * 1e3:.2f} ms, max {samples[-1] * 1e3:.2f} ms "
              f"over {len(samples)} breaches")  # fmt: skip


def served_kill_during_turns(runs: int = 8) -> None:
    """`quantdesk serve` with its services: risk's kill switch while a PM turn holds the desk's
    lock: "load data", the scheduled ingest job's turn (every 15 minutes; 1-2 s). Timed from
    publishing the command to hearing the halt. Also reported: how long the turn still ran
    after the command, which is what a kill switch that took the desk's lock would wait."""
    from interfaces.server import build

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = bitstamp_desk(Path(tmp))
        hub = f"tcp/127.0.0.1:{free_port()}"
        settings = Settings(data_dir=data_dir, bus_hub=hub, log_json=False,
                            deadman_reduce_after_s=30, deadman_halt_after_s=60)  # fmt: skip
        server = build(settings, schedule=False, bus=True)
        bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub])
        halted: dict[str, float] = {}

        def on_alert(message: object, key: str) -> None:
            if isinstance(message, Alert) and message.text.startswith("gate halted"):
                halted[message.trace_id] = time.perf_counter()

        bus.subscribe(Keys.ALL_ALERTS, on_alert)
        samples, turns, held_on, overlapped = [], [], [], 0
        try:
            deadline = time.monotonic() + 30
            while server.host.read(lambda d: d.gateway.trading_state.value) != "active":
                if time.monotonic() > deadline:
                    raise RuntimeError("the served desk never turned active")
                time.sleep(0.05)
            time.sleep(1.0)  # this peer reaches the hub
            for i in range(runs):
                began = time.perf_counter()
                turn = threading.Thread(target=server.host.ask, args=("load data", f"b{i}"))
                turn.start()
                time.sleep(0.3)  # well inside the turn
                command = RiskCommand(action="kill_switch", reason="benchmark breach")
                start = time.perf_counter()
                bus.publish(Keys.RISK_COMMANDS, command)
                while command.trace_id not in halted and time.perf_counter() - start < 30:
                    time.sleep(0.0002)
                overlapped += turn.is_alive()
                samples.append(halted[command.trace_id] - start)
                turn.join()
                turns.append(time.perf_counter() - began)
                held_on.append(time.perf_counter() - start)
                with server.host.lock:
                    server.host.session.desk.gateway.rearm(Actor.human("bench"), "benchmark")
        finally:
            bus.close()
            server.close()
        samples.sort()
        print(f"served desk, kill switch during a 'load data' turn: p50 "
              f"{statistics.median(samples) * 1e3:.2f} ms, max {samples[-1] * 1e3:.2f} ms over "
              f"{len(samples)}; halt heard while the turn ran: {overlapped}/{runs}; the turn "
              f"ran on {statistics.median(held_on):.2f} s (p50) after the command "
              f"(turns {min(turns):.1f}-{max(turns):.1f} s)")  # fmt: skip


def main() -> None:
    print("round trip, raw zenoh-python (bytes, callback handler):", round_trips(raw=True))
    print("round trip, core.bus (typed messages, worker thread):  ", round_trips(raw=False))
    breach_to_halt()
    served_kill_during_turns()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--echo":
        echo(sys.argv[2], sys.argv[3] == "True")
    else:
        main()
