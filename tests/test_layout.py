"""The layout ARCHITECTURE.md describes, held true by the code."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = (
    "agents",
    "graph",
    "tools",
    "prompts",
    "knowledge",
    "core",
    "interfaces",
    "evals",
    "gateway",
    "deploy",
    "benchmarks",
)


@pytest.mark.parametrize("name", PROJECT_PACKAGES)
def test_project_packages_resolve_to_this_repo(name: str):
    """Guards against an installed distribution shadowing a top-level package name."""
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def imported(path: Path) -> list[str]:
    """Every module name a file imports."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names


def test_core_imports_no_other_project_package():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        offenders += [
            f"{path.relative_to(ROOT)}: {n}"
            for n in imported(path)
            if n.split(".")[0] in PROJECT_PACKAGES and n.split(".")[0] != "core"
        ]
    assert offenders == []


def test_only_the_gateway_imports_ccxt_for_orders():
    """ccxt is allowed for market data (tools/ingest, the stream's live adapter and its
    books); order paths belong to gateway/."""
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "gateway", "tests") or rel.parts[:2] == ("tools", "ingest"):
            continue
        if rel in (Path("tools/stream/live_adapter.py"), Path("tools/stream/live_books.py")):
            continue
        assert "import ccxt" not in path.read_text(encoding="utf-8"), rel


EVERY = frozenset(PROJECT_PACKAGES)
# What each package must not import. benchmarks and evals stand outside the desk (they
# measure it and run it), so nothing inside imports them; benchmarks may import anything,
# evals anything but the interfaces (the CLI runs the evals, not the other way round).
OUTWARD = {
    "core": EVERY - {"core"},
    "prompts": EVERY - {"prompts"},
    "gateway": EVERY - {"gateway", "core"},
    "knowledge": EVERY - {"knowledge", "core"},
    # Service launchers stand beside the desk: they may use core, nothing above it.
    "deploy": EVERY - {"deploy", "core"},
    # Launchers start servers for people and tests; the desk's layers reach servers by address.
    "tools": {"agents", "graph", "interfaces", "evals", "benchmarks", "deploy"},
    "agents": {"graph", "interfaces", "evals", "benchmarks", "deploy"},
    "graph": {"interfaces", "evals", "benchmarks", "deploy"},
    "evals": {"interfaces", "benchmarks"},
    "interfaces": {"benchmarks"},
    "benchmarks": set(),
}


def test_every_package_has_a_place_in_the_layering():
    assert set(OUTWARD) == EVERY


@pytest.mark.parametrize("package", sorted(OUTWARD))
def test_dependencies_point_inward(package: str):
    """interfaces -> graph -> agents -> tools -> {gateway, knowledge, core} (ARCHITECTURE.md);
    imports inside functions count too."""
    root = ROOT / "gateway" / "python" / "gateway" if package == "gateway" else ROOT / package
    offenders = []
    for path in root.rglob("*.py"):
        offenders += [
            f"{path.relative_to(ROOT)}: {n}"
            for n in imported(path)
            if n.split(".")[0] in OUTWARD[package]
        ]
    assert offenders == []


# What every agent may share: the graph state, its result types, and the desk it acts on. The
# services' own plumbing (agents/services/runtime.py, launch.py, ...) is not another agent.
SHARED_BY_AGENTS = {"agents", "agents.state", "agents.results", "agents.desk"}


def _agent_module(name: str) -> bool:
    if not name.startswith("agents.") or name in SHARED_BY_AGENTS:
        return False
    if name.startswith("agents.services."):
        return False
    return (ROOT / (name.replace(".", "/") + ".py")).exists()


def test_agents_reach_few_other_agents():
    """The desk's operations live in tools/, so an agent rarely needs another agent's module:
    at most a dozen (importer, imported) pairs inside agents/ (issue 17; 21 before it)."""
    pairs = set()
    for path in (ROOT / "agents").rglob("*.py"):
        me = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        pairs |= {(me, n) for n in imported(path) if n != me and _agent_module(n)}
    assert len(pairs) <= 12, sorted(pairs)
