"""Whole `quantdesk` processes, start to exit: `quantdesk --help`, and a one-shot
`quantdesk ask "what is our exposure?"` on an embedded desk of its own (a temporary data
directory, so the rule router reads it: no model is configured there). p50 and p95
wall-clock seconds and the p50 of CPU seconds, over N runs after one untimed warm-up run of
each (bytecode, the store's first migration). Each ask opens a thread of its own, so every
run does the same work.

Targets (issue 17): `--help` <= 0.5 s, the question <= 2 s.

Run: uv run python -m benchmarks.cli_startup [--runs 5] [--load crypto goog]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

QUESTION = "what is our exposure?"


def quantdesk() -> list[str]:
    """The installed `quantdesk` script beside this interpreter, else `python -m`."""
    script = Path(sys.executable).with_name("quantdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "interfaces.cli"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one whole process; a failing command
    stops the benchmark. On a shared machine the CPU figure moves less with the load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*quantdesk(), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"quantdesk {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return took, cpu


def measure(name: str, args: Callable[[int], list[str]], runs: int, env: dict[str, str]) -> None:
    """`args(k)` is run k's arguments (k = 0 is the untimed warm-up)."""
    run(args(0), env)
    wall, cpu = zip(*(run(args(k), env) for k in range(1, runs + 1)), strict=True)
    print(f"{name:<40} p50 {statistics.median(wall):6.2f} s  p95 "
          f"{percentile(list(wall), 0.95):6.2f} s  (CPU p50 {statistics.median(cpu):5.2f} s; "
          f"{runs} runs)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument(
        "--load", nargs="*", default=[], metavar="DATASET",
        help="real datasets to load into the desk first (untimed), e.g. crypto goog",
    )  # fmt: skip
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("QUANTDESK_LLM_", "QUANTDESK_STORE_", "QUANTDESK_HELICONE_"))
        }  # fmt: skip
        env |= {"QUANTDESK_DATA_DIR": str(Path(tmp) / "desk"), "QUANTDESK_LOG_JSON": "false"}
        if options.load:
            started = time.perf_counter()
            run(["data", "load", *options.load], env)
            print(f"loaded {' '.join(options.load)} in {time.perf_counter() - started:.1f} s")
        print(f"command: {' '.join(quantdesk())}")
        measure("quantdesk --help", lambda k: ["--help"], options.runs, env)
        measure(
            f'quantdesk ask "{QUESTION}"',
            lambda k: ["ask", QUESTION, "--thread", f"startup-{k}"],
            options.runs,
            env,
        )


if __name__ == "__main__":
    main()
