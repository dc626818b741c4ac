"""Base class and shared field types for the domain models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class DomainModel(BaseModel):
    """Immutable, strict about unknown fields, and NaN/inf are refused everywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware timestamp, normalised to UTC; naive datetimes are refused."""

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$")
]
"""Venue ids, symbols, strategy ids: printable, no spaces, no quotes."""
