"""Thresholds of the quality checks, with their defaults in one place."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


class QualityConfig(BaseModel):
    """How strict quality control is; every threshold is named and bounded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outlier_z: float = Field(
        default=10.0,
        gt=0,
        description="Robust z-score of a log return "
        "(median/MAD) above which a return is an outlier.",
    )
    spike_revert_fraction: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="An outlier "
        "followed by an opposite outlier that undoes at least "
        "this fraction of it is a spike: one bad print.",
    )
    flat_line_bars: int = Field(
        default=10,
        ge=2,
        description="Bars with an unchanged price in a row that count as a frozen feed.",
    )
    stale_after: timedelta = Field(
        default=timedelta(days=3),
        description="A series whose last bar "
        "is older than this (and than 3 intervals) at `as_of` is stale.",
    )
