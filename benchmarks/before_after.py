"""Every benchmark on two commits, alternating, in one window: the "none slower" check.

This VM's speed moves by up to 2x within minutes, so a figure from another day says little
about a change. This runs an older commit ("before", in a git worktree with its own release
build of the gateway extension) and this tree ("after") from the same `.venv`, each tree
first on `PYTHONPATH` with its own benchmark scripts, round by round: before, after, before,
after. Each run's output goes to `--out`; the lines with figures are printed side by side.

Run: uv run python -m benchmarks.before_after --before ea25b7c [--rounds 2] [--only gate,api]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))

# name -> the command, run in the tree under test (the CLI's one is this tree's script).
BENCHMARKS: dict[str, list[str]] = {
    "gate": [PY, "-m", "benchmarks.gateway_checks"],
    "routing": [PY, "-m", "benchmarks.pm_routing"],
    "api": [PY, "-m", "benchmarks.api_latency"],
    "cli": [PY, str(ROOT / "benchmarks" / "cli_startup.py"), "--runs", "5"],
    "evals": [QUANTDESK, "eval", "--out", "{out}/evals-{label}"],
    "store": [PY, "-m", "benchmarks.store_ingest_query"],
    "research": [PY, "-m", "benchmarks.research_backtests"],
    "knowledge": [PY, "-m", "benchmarks.knowledge_queries"],
    "memory": [PY, "-m", "benchmarks.memory_recall"],
    "bus": [PY, "-m", "benchmarks.bus_latency"],
}
# A line worth comparing: it carries a figure with its unit.
FIGURE = re.compile(r"(p50|p99|/s\b|\d\s*(ms|us|µs|s)\b|x\b|passed)")


def worktree(commit: str, base: Path) -> Path:
    """`commit` checked out under `base`, its gateway extension built for release."""
    tree = base / f"tree-{commit[:12]}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "-f", str(tree), commit], cwd=ROOT, check=True)
    built = tree / "gateway" / "python" / "gateway" / "_core.abi3.so"
    if not built.exists():
        target = base / "target"
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "--features", "python", "--lib"],
            cwd=tree / "gateway",
            env={**os.environ, "CARGO_TARGET_DIR": str(target)},
            check=True,
        )
        shutil.copy(target / "release" / "libgateway_core.so", built)
    return tree


def run(tree: Path, name: str, label: str, out: Path) -> Path:
    """One benchmark in `tree`; its output (and wall time) in `out/label-name.log`."""
    command = [part.format(out=out, label=label) for part in BENCHMARKS[name]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'gateway' / 'python'}"
    log = out / f"{label}-{name}.log"
    began = time.perf_counter()
    with log.open("w") as sink:
        done = subprocess.run(
            command, cwd=tree, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=1800
        )
    with log.open("a") as sink:
        sink.write(f"\nWALL {time.perf_counter() - began:.2f} s, exit {done.returncode}\n")
    return log


def figures(log: Path) -> list[str]:
    """The lines of a run's output that carry figures, without log records."""
    lines = log.read_text(errors="replace").splitlines()
    return [
        " ".join(line.split())
        for line in lines
        if FIGURE.search(line) and " INFO " not in line and not line.startswith("{")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument("--out", type=Path, default=Path("/tmp/quantdesk-before-after"))
    parser.add_argument("--keep", action="store_true", help="keep the worktree afterwards")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        known = ", ".join(BENCHMARKS)
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; known: {known}")
    args.out.mkdir(parents=True, exist_ok=True)
    before = worktree(args.before, args.out)
    try:
        for round_ in range(1, args.rounds + 1):
            for name in names:
                for label, tree in (("before", before), ("after", ROOT)):
                    log = run(tree, name, f"{label}{round_}", args.out)
                    print(f"== {name}, {label}, round {round_} ({log})", flush=True)
                    for line in figures(log):
                        print(f"   {line}", flush=True)
    finally:
        if not args.keep:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT)


if __name__ == "__main__":
    main()
