"""Operations: halt and rearm the gate, and the schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request

from gateway import Actor
from interfaces.api.keys import Caller
from interfaces.api.models import GatewayStateOut, Problem, ReasonIn, ScheduledJobOut
from interfaces.api.routes_desk import host_of
from interfaces.api.security import Admin, Trader, Viewer
from interfaces.scheduler import Scheduler

router = APIRouter(prefix="/v1", tags=["operations"])


def _state(request: Request, actor: str, reason: str) -> GatewayStateOut:
    gateway = host_of(request).session.desk.gateway
    return GatewayStateOut(trading_state=gateway.trading_state.value, actor=actor, reason=reason)


@router.post("/gateway/halt", response_model=GatewayStateOut)
def halt(body: ReasonIn, request: Request, caller: Caller = Trader) -> GatewayStateOut:
    """Kill switch: cancel every open order and halt. Anyone who may trade may stop."""
    host = host_of(request)
    # The engine halts at once, even while a PM turn holds the desk; the audit write waits
    # for the store's lock (the host's), and the answer for the audit write.
    host.session.desk.gateway.kill_switch(f"human:{caller.name}", body.reason)
    with host.lock:
        out = _state(request, f"human:{caller.name}", body.reason)
    host.changed("state", "orders", "audit")
    return out


@router.post("/gateway/rearm", response_model=GatewayStateOut)
def rearm(body: ReasonIn, request: Request, caller: Caller = Admin) -> GatewayStateOut:
    """Restore ACTIVE after a halt: a recorded human action, admins only."""
    host = host_of(request)
    with host.lock:
        try:
            actor = Actor.human(caller.name)
            host.session.desk.gateway.rearm(actor, body.reason)
        except ValueError as exc:  # an unusable key name, or the gate's REARM_REFUSED
            raise HTTPException(403, str(exc)) from None
        out = _state(request, str(actor), body.reason)
    host.changed("state", "audit")
    return out


def scheduler_of(request: Request) -> Scheduler:
    scheduler: Scheduler | None = request.app.state.scheduler
    if scheduler is None:
        raise HTTPException(404, "no scheduler runs in this process")
    return scheduler


@router.get("/schedule", response_model=list[ScheduledJobOut], responses={404: {"model": Problem}})
def schedule(request: Request, caller: Caller = Viewer) -> list[ScheduledJobOut]:
    return [ScheduledJobOut(**job) for job in scheduler_of(request).status()]


@router.post(
    "/schedule/{job}/run",
    response_model=list[ScheduledJobOut],
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def run_job(
    request: Request,
    job: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")],
    caller: Caller = Admin,
) -> list[ScheduledJobOut]:
    """Start a run of `job` now (it still never overlaps a run in progress)."""
    scheduler = scheduler_of(request)
    if job not in scheduler.jobs:
        raise HTTPException(404, f"no job {job}")
    if not scheduler.start(job):
        raise HTTPException(409, f"{job} is still running")
    return [ScheduledJobOut(**j) for j in scheduler.status()]
