"""The gateway package declares what it imports: its own dependencies, the standard library,
and what `[tool.quantdesk-gateway] provided-by-quantdesk` in gateway/pyproject.toml names."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "gateway"


def _imports() -> dict[str, set[str]]:
    """Each module the gateway's Python files import (outside the package) -> the files."""
    found: dict[str, set[str]] = {}
    for path in (GATEWAY / "python" / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                found.setdefault(name, set()).add(path.name)
    return found


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((GATEWAY / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = {
        re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].lower().replace("-", "_")
        for dep in project["project"]["dependencies"]
    }
    distributions = {"pyyaml": "yaml"}
    dependencies = {distributions.get(r, r) for r in requirements}
    return dependencies, set(project["tool"]["quantdesk-gateway"]["provided-by-quantdesk"])


def _covered(module: str, declared: set[str]) -> bool:
    return any(module == d or module.startswith(f"{d}.") for d in declared)


def test_every_import_outside_the_package_is_declared():
    dependencies, provided = _declared()
    undeclared = {
        module: sorted(files)
        for module, files in _imports().items()
        if module.split(".")[0] not in sys.stdlib_module_names | {"gateway", "__future__"}
        and module.split(".")[0] not in dependencies
        and not _covered(module, provided)
    }
    assert undeclared == {}


def test_nothing_declared_goes_unused():
    _, provided = _declared()
    used = set(_imports())
    assert {p for p in provided if not any(_covered(m, {p}) for m in used)} == set()
