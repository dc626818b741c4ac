"""Talking to the PM (per thread, plain or streamed over SSE) and answering approvals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import StreamingResponse

from graph.session import NotWaitingError
from graph.supervisor import refused
from interfaces.api.keys import Caller
from interfaces.api.models import AnswerIn, ChatIn, PendingOut, Problem, TurnOut
from interfaces.api.security import Approver, Trader, Viewer
from interfaces.desk_host import DeskHost, ThreadBusyError

router = APIRouter(prefix="/v1", tags=["desk"])
Thread = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Conversation id.")]


def host_of(request: Request) -> DeskHost:
    host: DeskHost = request.app.state.host
    return host


@router.post(
    "/chat/{thread_id}",
    response_model=TurnOut,
    responses={400: {"model": Problem}, 409: {"model": Problem}},
)
def chat(thread_id: Thread, body: ChatIn, request: Request, caller: Caller = Trader) -> TurnOut:
    """One turn with the PM; returns its answers, the agents it ran and any approval it
    paused on. A request the PM cannot read (a zero quantity, an exponent, a symbol too
    long) is a 400 whose detail names what was not understood."""
    try:
        turn = host_of(request).ask(body.message, thread_id)
    except ThreadBusyError as exc:
        raise HTTPException(409, str(exc)) from None
    line = refused(turn.results)
    if line is not None:
        raise HTTPException(400, line)
    return TurnOut.of(turn)


@router.post(
    "/chat/{thread_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."},
        409: {"model": Problem},
    },
)
def chat_stream(
    thread_id: Thread, body: ChatIn, request: Request, caller: Caller = Trader
) -> StreamingResponse:
    """The PM's steps as server-sent events: `step` per agent (its line, and its result as a
    small `table`), `approval` if it pauses, then `done`, or `error` with a readable line (a
    request the PM cannot read, a failure). One turn at a time per thread: 409 while one
    runs."""
    try:
        steps = host_of(request).stream(body.message, thread_id)
    except ThreadBusyError as exc:
        raise HTTPException(409, str(exc)) from None

    def events() -> Iterator[str]:
        for event in steps:
            yield f"event: {event['event']}\ndata: {json.dumps(event, default=str)}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/approvals", response_model=list[PendingOut])
def approvals(request: Request, caller: Caller = Viewer) -> list[PendingOut]:
    """Every thread paused on an approval, with its card (order, notional, reasons, risk)."""
    return [PendingOut(thread_id=t, request=r) for t, r in host_of(request).pending().items()]


def _answer(
    request: Request, thread_id: str, decision: str, caller: Caller, reason: str
) -> TurnOut:
    # The session checks under the desk's lock, so two approvers racing get one answer in
    # and one 409, never a 500.
    try:
        turn = host_of(request).answer(thread_id, decision, f"api:{caller.name}", reason)
    except NotWaitingError as exc:
        raise HTTPException(409, str(exc)) from None
    return TurnOut.of(turn)


@router.post(
    "/approvals/{thread_id}/approve", response_model=TurnOut, responses={409: {"model": Problem}}
)
def approve(
    thread_id: Thread, body: AnswerIn, request: Request, caller: Caller = Approver
) -> TurnOut:
    """Approve the order the thread waits on; the gate issues a token and the order goes."""
    return _answer(request, thread_id, "approve", caller, body.reason)


@router.post(
    "/approvals/{thread_id}/reject", response_model=TurnOut, responses={409: {"model": Problem}}
)
def reject(
    thread_id: Thread, body: AnswerIn, request: Request, caller: Caller = Approver
) -> TurnOut:
    """Reject it: nothing is sent, and who and why are recorded."""
    return _answer(request, thread_id, "reject", caller, body.reason)
