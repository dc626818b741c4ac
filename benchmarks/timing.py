"""What every latency benchmark here needs: timed calls as p50/p99 in ms, and a free loopback
port."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable


def timed(call: Callable[[], object], rounds: int, warmup: int = 0) -> tuple[float, float]:
    """`call` run `warmup` times untimed, then `rounds` times: (p50, p99) in milliseconds."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99) - 1] * 1e3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
