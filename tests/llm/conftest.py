"""The real local model, assembled once per test session from the installed `llm` extra."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.llm.local_model import assemble


@pytest.fixture(scope="session")
def model_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding the verified Qwen2.5-Coder 0.5B GGUF (491 MB, joined once)."""
    data_dir = tmp_path_factory.mktemp("llm-data")
    assemble("qwen-0.5b", data_dir)
    yield data_dir
    # pytest keeps the last runs' temp dirs: not half a gigabyte each.
    shutil.rmtree(data_dir / "models", ignore_errors=True)


@pytest.fixture(scope="session")
def small_gguf(model_data_dir: Path) -> Path:
    return model_data_dir / "models" / "qwen-0.5b.gguf"
