"""Memory retrieval quality (recall@1, recall@5, MRR on the labelled set in
evals/memory/recall_set.json) and recall latency, Qdrant local mode with offline MiniLM.

Run: uv run python -m benchmarks.memory_recall
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from core.settings import Settings
from knowledge.memory.evaluation import evaluate, load_set
from knowledge.memory.store import MemoryStore, Recall


def main() -> None:
    labelled = load_set()
    print(f"labelled set: {len(labelled.notes)} notes, {len(labelled.queries)} queries")
    for pooled in (False, True):
        with (
            tempfile.TemporaryDirectory() as tmp,
            MemoryStore.open(Settings(data_dir=Path(tmp))) as m,
        ):
            s = evaluate(m, labelled, pooled=pooled)
            print(f"{s.mode:15s} recall@1 {s.recall_at_1:.3f}  recall@5 {s.recall_at_5:.3f}  "
                  f"MRR {s.mrr:.3f}")  # fmt: skip
            if pooled:
                samples = []
                for q in labelled.queries * 10:
                    start = time.perf_counter()
                    m.recall(Recall(query=q.text, limit=5))
                    samples.append(time.perf_counter() - start)
                samples.sort()
                print(f"recall latency (embed + search, {len(samples)} queries): p50 "
                      f"{statistics.median(samples) * 1e3:.2f} ms, "
                      f"p99 {samples[int(len(samples) * 0.99) - 1] * 1e3:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
