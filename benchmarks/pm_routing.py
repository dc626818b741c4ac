"""PM routing overhead per turn with the rule router: a whole graph turn that only routes
(the PM answers "explain" itself), checkpointed to SQLite, and the router alone.

Target: <= 5 ms p50 per turn. Run: uv run python -m benchmarks.pm_routing
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from core.settings import Settings
from core.store import Store
from graph.rule_router import RuleRouter
from graph.session import DeskSession

REQUESTS = (
    "find a momentum strategy for BTC and paper-trade it", "what is our exposure?",
    "buy 0.5 BTC at 19000", "halt everything", "write the report", "load crypto",
)  # fmt: skip


def main() -> None:
    router = RuleRouter()
    samples = []
    for _ in range(2_000):
        for text in REQUESTS:
            start = time.perf_counter()
            router.route(text)
            samples.append(time.perf_counter() - start)
    print(f"rule router alone: p50 {statistics.median(samples) * 1e6:.1f} us "
          f"over {len(samples):,} requests")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "desk")
        store = Store(f"chdb://{Path(tmp) / 'store'}")
        store.migrate()
        with DeskSession(settings, store) as desk:
            for k in range(20):
                desk.ask("explain", f"warm-{k}")
            turns = []
            for k in range(300):
                start = time.perf_counter()
                desk.ask("explain the last decision", f"t-{k % 10}")
                turns.append(time.perf_counter() - start)
        store.close()
    turns.sort()
    print(
        f"graph turn that only routes (PM node, SQLite checkpoint): p50 "
        f"{turns[len(turns) // 2] * 1e3:.2f} ms, p95 {turns[int(len(turns) * 0.95)] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
