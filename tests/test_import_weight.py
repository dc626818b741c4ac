"""Heavy libraries load when they are used, not when the CLI or the PM graph is imported: a
`quantdesk --help` or a one-shot question must not pay seconds for torch, MLflow or ccxt.
Each import runs in a fresh interpreter, so what other tests loaded does not count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Seconds to import each, on two cores; loaded by the code that uses them.
HEAVY = (
    "torch",
    "mlflow",
    "ccxt",
    "scipy",
    "sentence_transformers",
    "numba",
    "matplotlib",
    "qdrant_client",
    "neo4j",
    "langchain_openai",
    "openai",
)
# The desk's own stack: the graph needs it, `quantdesk --help` does not.
DESK_STACK = ("langgraph", "pandas", "chdb", "clickhouse_connect", "pydantic_settings")


def loaded_after_import(module: str) -> set[str]:
    """Top-level packages in `sys.modules` after importing `module` in a new interpreter."""
    probe = (
        "import json, sys\n"
        f"import {module}\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", ["interfaces.cli", "graph.build", "graph.supervisor"])
def test_importing_loads_no_heavy_library(module: str):
    assert sorted(loaded_after_import(module) & set(HEAVY)) == []


def test_the_cli_starts_without_the_desk_stack():
    """Every command imports what it needs when it runs."""
    assert sorted(loaded_after_import("interfaces.cli") & set(HEAVY + DESK_STACK)) == []


def test_the_probe_sees_a_heavy_import():
    """The check can fail: the compiled backtest loops do load numba."""
    assert "numba" in loaded_after_import("tools.research.kernels")
