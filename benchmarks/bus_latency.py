"""Bus latency between processes on loopback:

1. round trip: this process publishes a typed message, an echo process answers on another key.
   Each side is either Python (core.bus: pydantic messages, worker-thread handlers) or Rust
   (the gateway extension's own Zenoh session: serde messages, handled in Zenoh's callback),
   so Rust<->Rust, Rust<->Python and Python<->Python run in the same run, with raw
   zenoh-python (bytes, handler in Zenoh's callback) as the baseline;
2. breach to halt: a fill that breaches the drawdown limit is published; the execution
   service's Rust fast path (gateway.fast_path) trips its drawdown breaker and halts the gate
   through the latch, and says so on the bus. Timed from the fill's publication to the halt
   in force (the `StateChange`'s stamp, taken by the fast path when its latch took the halt,
   against the fill's own stamp taken just before it was published: one machine, one wall
   clock) and to hearing the halt back here. The risk service (its own process) runs too, as
   in a desk: its heartbeats arm the dead-man switch and it orders the same kill switch;
3. the served desk (`quantdesk serve` with its services): a kill switch published while a
   PM research turn holds the desk's lock, timed to hearing the halt.

Rows marked "idle CPUs polling" / "held to 0 us" run with a PM QoS request that keeps idle
CPUs from halting (gateway.realtime.CpuWakeLatency; needs root): on a VM, waking a halted
vCPU goes through the host, and that, not the code, is most of a loopback hop.

Goals (issue 23): p99 <= 150 us for a fill's path to the breaker and the halt back to the
gate; breach to halt in force p99 <= 1 ms over 1,000 breaches.
Run: uv run python -m benchmarks.bus_latency [--breaches 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import zenoh

from benchmarks.timing import free_port
from core.bus import Alert, Bus, Control, FillEvent, Heartbeat, Keys, RiskCommand, StateChange
from core.bus.session import config
from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from gateway import Actor
from gateway._core import BusEcho, bus_ping
from gateway.realtime import CpuWakeLatency
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS

ROUNDS = 5_000
SETTLE_S = float(os.environ.get("BENCH_SETTLE_S", "0.01"))


def echo(endpoint: str, kind: str) -> None:
    """Child: listen on `endpoint` and answer every ping with a pong until killed."""
    if kind == "raw":
        session = zenoh.open(config("peer", [endpoint], []))
        pong = session.declare_publisher("bench/raw/pong", express=True)
        session.declare_subscriber("bench/raw/ping", lambda s: pong.put(s.payload))
    elif kind == "rust":
        endpoints = {"mode": "peer", "listen": [endpoint], "connect": []}
        held = BusEcho(json.dumps(endpoints), "bench/bus/ping", "bench/bus/pong")  # noqa: F841
    else:
        bus = Bus.open("peer", listen=[endpoint])
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
    stdout = process.stdout
    assert stdout is not None
    for line in stdout:
        if line.strip() == ready:
            # Keep reading what it writes, or a chatty service blocks on a full pipe.
            threading.Thread(target=lambda: stdout.read(), daemon=True).start()
            return process
    raise RuntimeError(f"{args} did not start")


def python_pings(endpoint: str, raw: bool) -> list[float]:
    got = threading.Event()
    if raw:
        session = zenoh.open(config("peer", ["tcp/127.0.0.1:0"], [endpoint]))
        ping = session.declare_publisher("bench/raw/ping", express=True)
        session.declare_subscriber("bench/raw/pong", lambda s: got.set())
    else:
        bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint])
        bus.subscribe("bench/bus/pong", lambda m, k: got.set())
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
        if raw:
            session.close()  # type: ignore[no-untyped-call]
        else:
            bus.close()
    return samples


def round_trips(pinger: str, echoer: str) -> str:
    """`pinger` and `echoer`: "raw" (zenoh-python), "bus" (core.bus) or "rust"."""
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    child = spawn("-m", "benchmarks.bus_latency", "--echo", endpoint, echoer, ready="echo ready")
    try:
        if pinger == "rust":
            endpoints = json.dumps({"mode": "peer", "listen": ["tcp/127.0.0.1:0"],
                                    "connect": [endpoint]})  # fmt: skip
            samples = bus_ping(endpoints, "bench/bus/ping", "bench/bus/pong", ROUNDS)
        else:
            samples = python_pings(endpoint, raw=pinger == "raw")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
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


def breach_to_halt(
    runs: int, fast_path: bool, priority: int | None = None, wake_us: int | None = None
) -> None:
    """`fast_path=False`: the Python path it replaced, in the same run (risk's Python breaker
    orders the kill switch, execution's Python handler pulls it). `priority`: the fast path's
    SCHED_FIFO priority (0: normal scheduling; None: the desk's default). `wake_us`: the
    execution service holds idle CPUs to this wake latency (`QUANTDESK_CPU_WAKE_LATENCY_US`)."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = bitstamp_desk(Path(tmp))
        hub = f"tcp/127.0.0.1:{free_port()}"
        env = (
            os.environ
            | {
                "QUANTDESK_DATA_DIR": str(data_dir),
                "QUANTDESK_BUS_HUB": hub,
                "QUANTDESK_LOG_JSON": "false",
                "QUANTDESK_HEARTBEAT_INTERVAL_S": "0.1",
                "QUANTDESK_FAST_PATH": str(fast_path).lower(),
            }
            | ({} if priority is None else {"QUANTDESK_FAST_PATH_PRIORITY": str(priority)})
            | ({} if wake_us is None else {"QUANTDESK_CPU_WAKE_LATENCY_US": str(wake_us)})
        )
        cli = ("-m", "agents.services")
        services = [spawn(*cli, "execution", env=env, ready="execution ready"),
                    spawn(*cli, "risk", env=env, ready="risk ready")]  # fmt: skip
        halts: dict[str, tuple[float, StateChange]] = {}
        halted = threading.Event()
        bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[hub])

        def on_change(message: object, key: str) -> None:
            if isinstance(message, StateChange) and message.state == "halted":
                halts.setdefault(message.trace_id, (time.perf_counter(), message))
                halted.set()

        bus.subscribe(Keys.health("execution"), on_change)
        in_force, heard = [], []
        control = Keys.rpc("execution", "control")
        try:
            state, body = "reducing", {}
            deadline = time.monotonic() + 30
            while state != "active" and time.monotonic() < deadline:
                try:
                    body = bus.request(control, Control(action="state")).body
                    state = str(body["state"])
                except Exception:
                    time.sleep(0.2)
            fill = {
                "order_id": "bench", "strategy_id": "bench", "side": "buy",
                "instrument": "bitstamp:BTC/USD", "quantity": 1.0, "price": 20_000.0,
                "fee": 0.0, "position_after": 0.0,
            }  # fmt: skip
            for _ in range(runs):
                bus.publish(Keys.fills("bench"), FillEvent.model_validate(fill | {"equity": 1e6}))
                # The desk settles after the peak (risk's Python hears that fill too); the
                # breach then meets a quiet machine, as most fills do.
                time.sleep(SETTLE_S)
                breach = FillEvent.model_validate(
                    fill | {"equity": 850_000.0, "ts": datetime.now(UTC)}
                )
                halted.clear()
                start = time.perf_counter()
                bus.publish(Keys.fills("bench"), breach)
                while breach.trace_id not in halts and time.perf_counter() - start < 2:
                    halted.wait(0.5)
                    halted.clear()
                at, change = halts[breach.trace_id]
                heard.append(at - start)
                in_force.append((change.ts - breach.ts).total_seconds())
                # Risk's own kill switch for the same fill follows; let it land before the
                # rearm, or it would halt the next round.
                time.sleep(0.02)
                rearm = Control(action="rearm", actor="human:bench", reason="benchmark")
                if bus.request(control, rearm).body.get("state") != "active":
                    raise RuntimeError("the rearm did not take")
        finally:
            bus.close()
            for s in services:
                s.send_signal(signal.SIGTERM)
            for s in services:
                s.wait(timeout=30)

        def ms(samples: list[float]) -> str:
            samples.sort()
            p99 = samples[max(0, int(len(samples) * 0.99) - 1)]
            return (f"p50 {statistics.median(samples) * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, "
                    f"max {samples[-1] * 1e3:.3f} ms")  # fmt: skip

        took, held = body.get("fast_path_priority"), body.get("cpu_wake_latency_us")
        threads = f"SCHED_FIFO {took}" if took else "normal priority"
        if wake_us is not None:
            threads += f"; idle CPUs held to {held} us" if held is not None else "; wake NOT held"
        path = (f"fill -> execution's Rust breaker -> latch; its threads {threads}" if fast_path
                else "Python path: fill -> risk's breaker -> kill switch -> execution")  # fmt: skip
        print(f"breach to halt over {len(in_force)} breaches ({path}):\n"
              f"  in force (fill's stamp -> the halt's): {ms(in_force)}\n"
              f"  heard back here:                       {ms(heard)}", flush=True)  # fmt: skip


def own_fill_to_halt(runs: int, pause_s: float) -> None:
    """The desk's own fills: the gate books a fill, its fill watch hands it to the breakers
    inside the same call, and the halt is in force before the call returns. Timed from just
    before the submit that books the fill to the latch's stamp; strategy `momentum` has lost
    past its limit, so each of its fills after a human rearm trips it again."""
    from core.models.market import Trade
    from core.models.trading import Order, OrderType, Side, TimeInForce
    from gateway import Gateway, load_limits
    from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
    from gateway.limits import DEFAULT_LIMITS

    now = datetime.now(UTC)
    desk_time = [now]  # a second a breach: the gate's submit rate limit stays out of it
    gateway = Gateway(load_limits(DEFAULT_LIMITS), clock=lambda: desk_time[0])
    config = FastPathConfig(
        bus=BusEndpoints(mode="peer", connect=[]), deadman_reduce_after_s=3600,
        deadman_halt_after_s=7200,
        limits=BreakerLimits(max_drawdown=0.5, daily_loss_limit=1e9, strategy_loss_limit=100),
    )  # fmt: skip
    fast = FastPath(gateway, config)

    def trade(price: float) -> Trade:
        return Trade(venue_id="bitstamp", symbol="BTC/USD", ts=now, trade_id=uuid4().hex,
                     price=price, quantity=100.0)  # fmt: skip

    def market(side: Side) -> Order:
        return Order(client_order_id=f"b-{uuid4().hex[:12]}", strategy_id="momentum",
                     account_id="paper", venue_id="bitstamp", symbol="BTC/USD", side=side,
                     order_type=OrderType.MARKET, quantity=0.01,
                     time_in_force=TimeInForce.IOC, created_at=now)  # fmt: skip

    samples, calls = [], []
    try:
        gateway.on_trade(trade(30_000.0))
        gateway.submit(market(Side.BUY))
        gateway.on_trade(trade(10_000.0))
        gateway.submit(market(Side.SELL))  # a 200 USD loss: past the 100 limit
        for i in range(runs):
            desk_time[0] += timedelta(seconds=1)
            gateway.rearm("human:bench", "benchmark")
            # Also timed with the bus breach's pause: the last breach's messages are out, and
            # the machine has gone quiet, before the next one.
            time.sleep(pause_s)
            start = time.time_ns() // 1000
            began = time.perf_counter()
            decision = gateway.submit(market(Side.BUY if i % 2 else Side.SELL))
            calls.append(time.perf_counter() - began)
            if gateway.strategy_state("momentum").value != "halted":
                raise RuntimeError(f"the fill did not halt its strategy: {decision}, "
                                   f"{fast.stats()}")  # fmt: skip
            samples.append((fast.stats()["last_in_force_us"] - start) / 1e6)
    finally:
        fast.close()
        gateway.close()
    samples.sort()
    calls.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"own fill to halt in force, in process ({runs} breaches, {pause_s * 1e3:g} ms "
          f"apart): p50 "
          f"{statistics.median(samples) * 1e6:.1f} us, p99 {p99 * 1e6:.1f} us; the submit call "
          f"that booked it: p50 {statistics.median(calls) * 1e6:.1f} us")  # fmt: skip


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


@contextmanager
def kept_awake() -> Iterator[str]:
    """Idle CPUs poll rather than halt while inside (a PM QoS request of 0 us, as
    `QUANTDESK_CPU_WAKE_LATENCY_US=0` has the execution service hold)."""
    wake = CpuWakeLatency(0)
    try:
        if wake.held == 0:
            yield "-- idle CPUs held to 0 us wake latency (PM QoS), machine-wide:"
        else:
            yield "-- the PM QoS request was refused: the rows below are NOT kept awake"
    finally:
        wake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--breaches", type=int, default=1_000)
    parser.add_argument("--part", choices=["all", "round-trips", "breach", "own", "served"],
                        default="all")  # fmt: skip
    args = parser.parse_args()
    if args.part in ("all", "round-trips"):
        for name, pinger, echoer in [
            ("raw zenoh-python <-> raw zenoh-python (bytes, callback)", "raw", "raw"),
            ("Rust <-> Rust (typed, callback)                         ", "rust", "rust"),
            ("Python core.bus -> Rust echo                            ", "bus", "rust"),
            ("Rust -> Python core.bus echo                            ", "rust", "bus"),
            ("Python core.bus <-> Python core.bus (worker thread)     ", "bus", "bus"),
        ]:
            print(f"round trip, {name}: {round_trips(pinger, echoer)}", flush=True)
        with kept_awake() as note:
            print(note, flush=True)
            for name, pinger, echoer in [
                ("raw zenoh-python <-> raw zenoh-python, idle CPUs polling", "raw", "raw"),
                ("Rust <-> Rust, idle CPUs polling                        ", "rust", "rust"),
            ]:
                print(f"round trip, {name}: {round_trips(pinger, echoer)}", flush=True)
    if args.part in ("all", "own"):
        own_fill_to_halt(args.breaches, pause_s=0.0)
        own_fill_to_halt(args.breaches, pause_s=SETTLE_S)
        with kept_awake() as note:
            print(note, flush=True)
            own_fill_to_halt(args.breaches, pause_s=SETTLE_S)
    if args.part in ("all", "breach"):
        breach_to_halt(args.breaches, fast_path=True, wake_us=0)
        breach_to_halt(args.breaches, fast_path=True)
        breach_to_halt(args.breaches, fast_path=True, priority=0)
        breach_to_halt(args.breaches, fast_path=False)
    if args.part in ("all", "served"):
        served_kill_during_turns()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--echo":
        echo(sys.argv[2], sys.argv[3])
    else:
        main()
