"""Heavy libraries load when they are used, not when the CLI or the PM graph is imported: a
`quantdesk --help` or a one-shot question must not pay seconds for torch, MLflow or ccxt.
Each import runs in a fresh interpreter, so what other tests loaded does not count.

langsmith is not among them: langchain-core's runnables (which langgraph runs the graph on)
import it through their tracers, whatever the tracing settings say."""

from __future__ import annotations

import json
import os
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
# The bus and the metrics: a served desk's (services, monitor), not a question's.
SERVICE_STACK = ("zenoh", "prometheus_client")
# The desk's own stack: the graph needs it, `quantdesk --help` does not. pydantic is in it:
# building the models costs a fifth of `--help`'s half-second budget.
DESK_STACK = ("langgraph", "pandas", "chdb", "clickhouse_connect", "pydantic", "pydantic_settings")


def loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages in `sys.modules` after running `code` in a new interpreter."""
    probe = (
        f"import json, sys\n{code}\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded_after_import(module: str) -> set[str]:
    """Top-level packages in `sys.modules` after importing `module` in a new interpreter."""
    return loaded_after(f"import {module}")


@pytest.mark.parametrize("module", ["interfaces.cli", "graph.build", "graph.supervisor"])
def test_importing_loads_no_heavy_library(module: str):
    assert sorted(loaded_after_import(module) & set(HEAVY + SERVICE_STACK)) == []


def test_the_cli_starts_without_the_desk_stack():
    """Every command imports what it needs when it runs."""
    assert sorted(loaded_after_import("interfaces.cli") & set(HEAVY + DESK_STACK)) == []


def test_the_probe_sees_a_heavy_import():
    """The check can fail: the compiled backtest loops do load numba."""
    assert "numba" in loaded_after_import("tools.research.kernels")


def test_a_question_loads_no_heavy_library(tmp_path: Path):
    """`quantdesk ask "what is our exposure?"` end to end on an empty desk, with the rule
    router: once the kind reader's trained state is on disk (the first process trains it,
    with scipy), a question loads none of them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env |= {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "QUANTDESK_DATA_DIR": str(tmp_path / "desk"),
        "QUANTDESK_LOG_JSON": "false",
    }
    assert "scipy" in loaded_after("from graph.kind_reader import kind_reader; kind_reader()", env)
    ask = (
        "from interfaces.cli.app import app\n"
        "app(['ask', 'what is our exposure?'], standalone_mode=False)"
    )
    assert sorted(loaded_after(ask, env) & set(HEAVY + SERVICE_STACK)) == []
