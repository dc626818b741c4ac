"""The fast path's Rust threads run SCHED_FIFO where the OS allows it, and only they do:
Python's threads, zenoh-python's and the caller stay at normal priority. Where the OS refuses,
the fast path still starts, still halts the gate, and reports priority 0. Its hold on idle
CPUs' wake latency (PM QoS) lasts while it runs and not a moment after, even through kill -9.

Each case runs in a fresh process: Zenoh's runtime threads are made once per process, so
only a process whose first Rust session opens raised shows what the desk's services get."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import Settings
from gateway import Gateway
from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
from gateway.realtime import CPU_DMA_LATENCY, CpuWakeLatency, cpu_wake_latency_us
from tests.fakes.loopback import free_port
from tests.gateway_fixtures import T0, limits

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from core.bus import Bus, Keys, RiskCommand
    from core.models.trading import TradingState
    from gateway import Gateway
    from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
    from gateway.realtime import realtime_thread_names
    from tests.gateway_fixtures import T0, limits

    endpoint, priority = sys.argv[1], int(sys.argv[2])
    gateway = Gateway(limits(), clock=lambda: T0)
    config = FastPathConfig(
        bus=BusEndpoints(mode="peer", listen=[endpoint]), deadman_reduce_after_s=60,
        deadman_halt_after_s=120, realtime_priority=priority,
        limits=BreakerLimits(max_drawdown=0.1, daily_loss_limit=1e6, strategy_loss_limit=1e6),
    )
    fast = FastPath(gateway, config)
    bus = Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint])
    deadline = time.monotonic() + 20
    while gateway.trading_state is not TradingState.HALTED and time.monotonic() < deadline:
        bus.publish(Keys.RISK_COMMANDS, RiskCommand(action="kill_switch", reason="test"))
        time.sleep(0.2)
    names = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/comm") as comm:
            name = comm.read().strip()
        names[name] = names.get(name, 0) + 1
    print(json.dumps({
        "took": fast.realtime_priority, "stats": fast.stats()["realtime_priority"],
        "realtime": realtime_thread_names(), "threads": names,
        "caller": os.sched_getscheduler(0), "halted": gateway.trading_state.value,
    }))
    bus.close()
    fast.close()
    gateway.close()
""")


def run(priority: int, *, unprivileged: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-c", SCRIPT]
    if unprivileged and os.geteuid() == 0:
        # Root keeps CAP_SYS_NICE unless it leaves the bounding set before exec.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, and no setpriv to drop CAP_SYS_NICE")
        command = [setpriv, "--bounding-set", "-sys_nice", "--", *command]

    def no_realtime_allowance() -> None:
        resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))

    endpoint = f"tcp/127.0.0.1:{free_port()}"
    done = subprocess.run(
        [*command, endpoint, str(priority)], capture_output=True, text=True, timeout=60,
        cwd=ROOT, preexec_fn=no_realtime_allowance if unprivileged else None,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["log"] = done.stderr
    return result


def can_raise() -> bool:
    allowed: list[bool] = []

    def probe() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except OSError:
            allowed.append(False)
            return
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        allowed.append(True)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return allowed == [True]


pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux only")


@pytest.mark.skipif(not can_raise(), reason="this user may not raise a thread to SCHED_FIFO")
def test_the_rust_threads_run_real_time_and_python_does_not() -> None:
    result = run(10)
    assert (result["took"], result["stats"], result["halted"]) == (10, 10, "halted")
    realtime = result["realtime"]
    # Ours: the publisher, the dead-man timer and the Rust Zenoh session's runtime.
    assert {"fast-path-publi", "fast-path-timer", "rx-0", "tx-0"} <= set(realtime)
    # The Python peer in the same process has its own Zenoh runtime with the same names:
    # one of each pair is ours, the other stays at normal priority.
    assert result["threads"]["rx-0"] == 2
    assert realtime.count("rx-0") == 1
    assert not {"python", "fast-path-apply"} & set(realtime)
    assert result["caller"] == os.SCHED_OTHER


def test_priority_zero_leaves_every_thread_alone() -> None:
    result = run(0)
    assert (result["took"], result["realtime"], result["halted"]) == (0, [], "halted")


def test_a_refused_priority_still_starts_the_fast_path_and_says_so() -> None:
    result = run(10, unprivileged=True)
    assert (result["took"], result["stats"], result["realtime"]) == (0, 0, [])
    assert result["halted"] == "halted"
    assert "real-time priority 10 refused" in result["log"]


# -- idle CPUs held awake (PM QoS) ---------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from gateway.realtime import CpuWakeLatency
    wake = CpuWakeLatency(int(sys.argv[1]))
    print("held", wake.held, flush=True)
    time.sleep(120)
""")

writable = pytest.mark.skipif(
    not os.access(CPU_DMA_LATENCY, os.W_OK), reason="no writable /dev/cpu_dma_latency (root)"
)


@writable
def test_a_killed_holder_leaves_the_machine_as_it_was() -> None:
    before = cpu_wake_latency_us()
    assert before is not None
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "7"], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().split() == ["held", "7"]
        assert cpu_wake_latency_us() == min(before, 7)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel dropped the request with the dead process's file: no tuning left behind.
    assert cpu_wake_latency_us() == before


@writable
def test_the_fast_path_holds_the_wake_latency_while_it_runs() -> None:
    before = cpu_wake_latency_us()
    assert before is not None
    gateway = Gateway(limits(), clock=lambda: T0)
    config = FastPathConfig(
        bus=BusEndpoints(mode="peer", listen=[f"tcp/127.0.0.1:{free_port()}"]),
        limits=BreakerLimits(max_drawdown=0.1, daily_loss_limit=1e6, strategy_loss_limit=1e6),
        deadman_reduce_after_s=60, deadman_halt_after_s=120, cpu_wake_latency_us=9,
    )  # fmt: skip
    fast = FastPath(gateway, config)
    try:
        assert fast.cpu_wake_latency_us == 9
        assert fast.stats()["cpu_wake_latency_us"] == 9
        assert cpu_wake_latency_us() == min(before, 9)
    finally:
        fast.close()
        gateway.close()
    assert cpu_wake_latency_us() == before
    assert fast.cpu_wake_latency_us is None


def test_a_refused_wake_latency_is_reported_and_holds_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = cpu_wake_latency_us()
    # A folder cannot be opened for writing, whoever runs the test.
    wake = CpuWakeLatency(0, device=tmp_path)
    assert wake.held is None
    assert "CPU wake latency 0 us not held" in caplog.text
    wake.close()
    assert cpu_wake_latency_us() == before


@pytest.mark.parametrize(
    "field", [{"realtime_priority": 100}, {"realtime_priority": -1}, {"cpu_wake_latency_us": -5}]
)
def test_out_of_range_scheduling_is_refused_before_anything_starts(field: dict[str, int]) -> None:
    base = {"bus": BusEndpoints(), "deadman_reduce_after_s": 1, "deadman_halt_after_s": 2,
            "limits": BreakerLimits(max_drawdown=0.1, daily_loss_limit=1, strategy_loss_limit=1)}  # fmt: skip
    before = cpu_wake_latency_us()
    with pytest.raises(ValidationError, match=next(iter(field))):
        FastPathConfig.model_validate(base | field)
    with pytest.raises(ValidationError):
        Settings(fast_path_priority=field.get("realtime_priority", 0),
                 cpu_wake_latency_us=field.get("cpu_wake_latency_us"))  # fmt: skip
    assert cpu_wake_latency_us() == before
