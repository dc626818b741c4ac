"""Audit events: the append-only record of everything that decides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from core.models.base import DomainModel, UtcDatetime


class AuditEvent(DomainModel):
    """One decision or state change; `correlation_id` joins it to its siblings."""

    event_id: UUID = Field(default_factory=uuid4)
    ts: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    actor: str = Field(min_length=1, max_length=64, description="Agent, service or human id.")
    kind: str = Field(min_length=1, max_length=64, description="e.g. gate.decision, data.load.")
    correlation_id: str = Field(default="", max_length=128)
    order_id: UUID | None = None
    strategy_id: str = ""
    reason_codes: tuple[str, ...] = ()
    limits_version: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
