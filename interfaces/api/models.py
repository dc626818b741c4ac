"""The API's request and response bodies."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.models.approval import ApprovalCard
from graph.instruction import unreadable
from graph.session import Turn

ThreadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatIn(Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=4000)]

    # Before pydantic's own str check, whose "unable to parse raw data as a unicode string"
    # says neither what nor where.
    @field_validator("message", mode="before")
    @classmethod
    def _is_text(cls, message: object) -> object:
        problem = unreadable(message) if isinstance(message, str) else None
        if problem is not None:
            raise ValueError(problem)
        return message


class AnswerIn(Body):
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""


class ReasonIn(Body):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class TurnOut(BaseModel):
    thread_id: str
    answers: list[str]
    trace: list[str]
    results: dict[str, Any]
    pending: ApprovalCard | None = Field(description="The approval the thread paused on, if any.")
    routed_by: str = Field(
        default="", description="Which router decided, and why the model was skipped if it was."
    )

    @classmethod
    def of(cls, turn: Turn) -> TurnOut:
        # Tool results hold numpy scalars and timestamps; JSON via str keeps every figure.
        results = json.loads(json.dumps(turn.results, default=str))
        return cls(
            thread_id=turn.thread_id,
            answers=turn.answers,
            trace=turn.trace,
            results=results,
            pending=turn.pending,
            routed_by=turn.routed_by,
        )


class PendingOut(BaseModel):
    thread_id: str
    request: ApprovalCard


class Problem(BaseModel):
    detail: str


class GatewayStateOut(BaseModel):
    trading_state: Literal["active", "reducing", "halted"] | str
    actor: str
    reason: str


class ScheduledJobOut(BaseModel):
    name: str
    cron: str
    request: str
    next_run: str | None
    last_run: str | None
    last_outcome: str | None
    running: bool
