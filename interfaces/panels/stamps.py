"""Timestamps as the panels show them: ISO 8601 in UTC, with its offset (the store gives
some back without a zone)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else utc(value).isoformat()
