"""Prompt templates as files; the first line of each names its version."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).parent


def load(name: str) -> tuple[str, str]:
    """(version, text) of `prompts/<name>.txt`."""
    first, _, rest = (HERE / f"{name}.txt").read_text(encoding="utf-8").partition("\n")
    if not first.startswith("version: "):
        raise ValueError(f"prompts/{name}.txt must start with 'version: <id>'")
    return first.removeprefix("version: ").strip(), rest.strip()


class Example(NamedTuple):
    request: str
    route: dict[str, Any]


def examples(name: str) -> list[Example]:
    """The worked examples of `prompts/<name>_examples.yaml`, in file order."""
    import yaml

    raw = yaml.safe_load((HERE / f"{name}_examples.yaml").read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"prompts/{name}_examples.yaml must be a list of examples")
    return [Example(str(item["request"]), dict(item["route"])) for item in raw]
