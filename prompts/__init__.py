"""Prompt templates as files; the first line of each names its version."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def load(name: str) -> tuple[str, str]:
    """(version, text) of `prompts/<name>.txt`."""
    first, _, rest = (HERE / f"{name}.txt").read_text(encoding="utf-8").partition("\n")
    if not first.startswith("version: "):
        raise ValueError(f"prompts/{name}.txt must start with 'version: <id>'")
    return first.removeprefix("version: ").strip(), rest.strip()
