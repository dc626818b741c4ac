"""Scheduling for the Rust threads that keep the desk safe.

Two waits, not the code, set the bus path's tail on the 2-vCPU VM of benchmarks/RESULTS.md:

- a woken thread waiting behind others for a CPU. Linux threads inherit their creator's
  policy, so raising the calling thread while the fast path starts gives its Zenoh runtime,
  publisher and dead-man threads SCHED_FIFO, and the caller (Python) goes back to its own
  policy after (`realtime_threads`);
- an idle CPU waking from a halt, which in a VM costs a trip through the host. A PM QoS
  request on /dev/cpu_dma_latency keeps idle CPUs in states that wake within the given
  latency (0: they poll), machine-wide, for as long as the file is open: the kernel drops
  the request when the holder closes it or dies, so a killed desk leaves nothing set
  (`CpuWakeLatency`)."""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def realtime_threads(priority: int) -> Iterator[int]:
    """Threads started inside run SCHED_FIFO at `priority` (1-99; 0 leaves scheduling alone).
    Yields the priority that took: 0 where the OS refuses (no CAP_SYS_NICE and no
    RLIMIT_RTPRIO that high) or has no such policy, and then says so in the log."""
    if priority <= 0:
        yield 0
        return
    if not hasattr(os, "sched_setscheduler"):
        log.warning("real-time priority %d not set: this OS has no sched_setscheduler", priority)
        yield 0
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError as exc:
        log.warning("real-time priority %d refused (%s): the fast path's threads run at normal "
                    "priority", priority, exc.strerror or exc)  # fmt: skip
        yield 0
        return
    try:
        yield priority
    finally:
        os.sched_setscheduler(0, policy, param)


def realtime_thread_names() -> list[str]:
    """Names of this process's threads that run SCHED_FIFO or SCHED_RR (Linux; else [])."""
    names = []
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            if os.sched_getscheduler(int(task.name)) in (os.SCHED_FIFO, os.SCHED_RR):
                names.append((task / "comm").read_text().strip())
        except OSError:
            continue  # the thread ended while we looked
    return sorted(names)


CPU_DMA_LATENCY = Path("/dev/cpu_dma_latency")


class CpuWakeLatency:
    """Holds a PM QoS request that idle CPUs wake within `microseconds`, until `close()` or
    the process ends. Costs power: with 0, idle CPUs poll instead of halting. Where the OS
    refuses (not root, no such device), `held` is None and the log says so."""

    def __init__(self, microseconds: int, device: Path = CPU_DMA_LATENCY) -> None:
        self.held: int | None = None
        self._fd: int | None = None
        try:
            fd = os.open(device, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            log.warning("CPU wake latency %d us not held (%s: %s): idle CPUs may halt",
                        microseconds, device, exc.strerror or exc)  # fmt: skip
            return
        try:
            os.write(fd, struct.pack("=i", microseconds))
        except OSError as exc:
            os.close(fd)
            log.warning("CPU wake latency %d us refused (%s: %s): idle CPUs may halt",
                        microseconds, device, exc.strerror or exc)  # fmt: skip
            return
        self._fd, self.held = fd, microseconds

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd, self.held = None, None


def cpu_wake_latency_us(device: Path = CPU_DMA_LATENCY) -> int | None:
    """The machine's PM QoS CPU latency target now (µs), the tightest request held."""
    try:
        return int(struct.unpack("=i", device.read_bytes()[:4])[0])
    except (OSError, struct.error):
        return None
