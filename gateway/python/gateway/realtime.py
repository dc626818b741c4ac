"""Real-time scheduling for the Rust threads that keep the desk safe.

On a busy machine a woken thread can wait behind others for a CPU: on the 2-vCPU VM of
benchmarks/RESULTS.md that wait, not the code, set the bus breach's p99 (2.1 ms against 0.8
ms with SCHED_FIFO). Linux threads inherit their creator's policy, so raising the calling
thread while the fast path starts gives its Zenoh runtime, publisher and dead-man threads
SCHED_FIFO, and the caller (Python) goes back to its own policy after."""

from __future__ import annotations

import logging
import os
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
