"""An agent's result as a small table for the chat: its first list of records (positions,
fills, orders), or else its plain figures as field/value rows. Nested values are left out;
the full result stays in the turn's JSON."""

from __future__ import annotations

import math
from typing import Any

ROWS = 20
FIELDS = 12

Scalar = str | int | float | bool | None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: Any) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 6)
    return value  # type: ignore[no-any-return]


def table_of(result: Any) -> list[dict[str, Scalar]] | None:
    if not isinstance(result, dict) or not result:
        return None
    # One level down too: risk leaves its figures under `portfolio`.
    inner = [v for v in result.values() if isinstance(v, dict)]
    for part in (result, *inner):
        for value in part.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return [
                    {k: _cell(v) for k, v in list(row.items())[:FIELDS] if _scalar(v)}
                    for row in value[:ROWS]
                ]
    rows = [
        {"field": k, "value": _cell(v)}
        for part in (result, *inner)
        for k, v in part.items()
        if _scalar(v)
    ]
    return rows[:FIELDS] or None
