"""The desk replayed over 2017-01-01 .. 2020-12-01 (1,430 simulated days) of Bitstamp
BTC, ETH and LTC daily bars with the rule router: whole `quantdesk replay` processes, start
to exit, each on a temporary data directory of its own (so the replay loads its history
through quality control as a first replay does). Prints the process's wall-clock and CPU
seconds, the replay loop's own seconds (as the command reports them), and the orders,
fills and final equity, which must be the same in every run.

Variants: the default command (memory off, an MLflow run logged) and `--memory`, which
embeds and recalls research notes (advisory: the orders must not change). Target (issue
18): the rule-router replay in 60 s or less on the 2-core machine.

Run: uv run python -m benchmarks.desk_replay [--runs 2] [--from 2017-01-01 --to 2020-12-01]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "default (no memory, an MLflow run)": [],
    "--memory (research recalls and writes notes)": ["--memory"],
}


def quantdesk() -> list[str]:
    script = Path(sys.executable).with_name("quantdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "interfaces.cli"]


def replay_once(start: str, end: str, extra: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="qd-replay-bench-") as tmp:
        env = {**os.environ, "QUANTDESK_DATA_DIR": str(Path(tmp) / "desk")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [*quantdesk(), "replay", "--from", start, "--to", end, *extra],
            env=env, capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"replay exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        [run_json] = list((Path(tmp) / "desk" / "replays").glob("*/run.json"))
        run = json.loads(run_json.read_text())
    return {
        "wall_s": wall,
        "cpu_s": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        "loop_s": float(run["wall_s"]),
        "orders": len(run["verdicts"]),
        "fills": len(run["fills"]),
        "equity": float(run["marks"][-1]["equity"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--from", dest="start", default="2017-01-01")
    parser.add_argument("--to", dest="end", default="2020-12-01")
    args = parser.parse_args()
    print(f"quantdesk replay --from {args.start} --to {args.end}, rule router, {args.runs} runs")
    for name, extra in VARIANTS.items():
        results = [replay_once(args.start, args.end, extra) for _ in range(args.runs)]
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in results)
        loops = ", ".join(f"{r['loop_s']:.1f}" for r in results)
        cpus = ", ".join(f"{r['cpu_s']:.1f}" for r in results)
        same = len({(r["orders"], r["fills"], round(r["equity"], 6)) for r in results}) == 1
        first = results[0]
        print(
            f"{name}: process {walls} s (CPU {cpus} s), replay loop {loops} s; "
            f"{first['orders']} orders, {first['fills']} fills, final equity "
            f"{first['equity']:,.2f}; identical across runs: {same}"
        )


if __name__ == "__main__":
    main()
