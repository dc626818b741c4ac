"""Whole `quantdesk` processes, start to exit: `quantdesk --help`, and a one-shot
`quantdesk ask "what is our exposure?"` on an embedded desk of its own (a temporary data
directory, so the rule router reads it: no model is configured there). p50 and p95
wall-clock seconds and the p50 of CPU seconds, over N runs after one untimed warm-up run of
each (bytecode, the store's first migration, the kind reader's training). Each ask opens a
thread of its own, so every run does the same work.

The kind reader's trained state (graph/kind_reader.py) is cached in a temporary
XDG_CACHE_HOME of the benchmark's own: the warm-up trains and writes it, the timed questions
load it, as every question after the first does. `--untrained` also times the question with
that cache removed before each run: what the first question after a change to the labelled
requests or the reader's code pays.

Targets (issue 17): `--help` <= 0.5 s, the question <= 2 s (the steady state).

Run: uv run python -m benchmarks.cli_startup [--runs 5] [--load crypto goog] [--untrained]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
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


def measure(
    name: str,
    args: Callable[[int], list[str]],
    runs: int,
    env: dict[str, str],
    before: Callable[[], None] = lambda: None,
) -> None:
    """`args(k)` is run k's arguments (k = 0 is the untimed warm-up); `before` runs, untimed,
    before each run."""
    before()
    run(args(0), env)
    samples = []
    for k in range(1, runs + 1):
        before()
        samples.append(run(args(k), env))
    wall, cpu = zip(*samples, strict=True)
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
    parser.add_argument(
        "--untrained", action="store_true",
        help="also time the question with the kind reader's cached training removed first",
    )  # fmt: skip
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # PYTHONDONTWRITEBYTECODE is dropped: with it, every run compiles the desk and its
        # libraries afresh (2.5x slower here), which no installed desk does after its first run.
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("QUANTDESK_LLM_", "QUANTDESK_STORE_", "QUANTDESK_HELICONE_"))
            and k != "PYTHONDONTWRITEBYTECODE"
        }  # fmt: skip
        cache = Path(tmp) / "cache"
        env |= {
            "QUANTDESK_DATA_DIR": str(Path(tmp) / "desk"),
            "QUANTDESK_LOG_JSON": "false",
            "XDG_CACHE_HOME": str(cache),
        }
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
        if options.untrained:
            measure(
                "the same, kind reader untrained",
                lambda k: ["ask", QUESTION, "--thread", f"untrained-{k}"],
                options.runs,
                env,
                before=lambda: shutil.rmtree(cache / "quantdesk", ignore_errors=True),
            )


if __name__ == "__main__":
    main()
