"""What the web cockpit reads beyond the desk's views: who the caller is, the trading state
and its history, limit use and exposure, market data and its quality, the agents, the
audit trail, a stream of change notices, and the page's static files (plotly from its
installed package, never a CDN)."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime
from functools import cache
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from agents.desk import Desk
from core.store.audit import AuditLog
from interfaces.api.keys import Caller, Role
from interfaces.api.models import Problem
from interfaces.api.routes_desk import host_of
from interfaces.api.security import Viewer
from interfaces.panels import activity, audit_trail, limits_use, market, trading_state

router = APIRouter(prefix="/v1", tags=["cockpit"])
static = APIRouter(include_in_schema=False)
WEB = FilePath(__file__).parent.parent / "web"
PING_S = 15.0
DIGEST_S = 2.0
Instrument = Annotated[str, Query(pattern=r"^[^:\s]{1,32}:[^:\s]{1,32}$")]
IntervalQ = Annotated[str, Query(pattern=r"^[0-9]{1,3}[smhdw]$")]


@router.get("/me")
def me(caller: Caller = Viewer) -> dict[str, Any]:
    """The caller's name and role, and what the cockpit lets that role do."""
    return {
        "name": caller.name,
        "role": caller.role.name,
        "may": {
            "chat": caller.role >= Role.trader,
            "halt": caller.role >= Role.trader,
            "approve": caller.role >= Role.approver,
            "rearm": caller.role >= Role.admin,
        },
    }


@router.get("/trading-state")
def state(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """ACTIVE, REDUCING or HALTED, who moved it last, why and when, and the recent moves."""
    return host_of(request).read(trading_state.trading_state)


@router.get("/exposure")
def exposure(request: Request, caller: Caller = Viewer) -> list[dict[str, Any]]:
    """Each held instrument's value at its last close, and its share of equity."""
    return host_of(request).read(limits_use.exposure)


@router.get("/limits")
def limits(request: Request, caller: Caller = Viewer) -> list[dict[str, Any]]:
    """Each limit's use now: exposure, drawdown, today's loss, positions, strategies."""
    return host_of(request).read(limits_use.limits_use)


@router.get("/market/series")
def series(request: Request, caller: Caller = Viewer) -> list[dict[str, Any]]:
    """The stored series, their span, lag behind the desk's clock and quarantined rows."""
    return host_of(request).read(market.series)


@router.get("/market/bars", responses={404: {"model": Problem}})
def bars(
    request: Request,
    instrument: Instrument,
    interval: IntervalQ = "1d",
    limit: Annotated[int, Query(ge=1, le=market.BARS_MAX)] = 400,
    caller: Caller = Viewer,
) -> dict[str, Any]:
    """One series' last bars, with the desk's fills in that instrument over them."""
    try:
        return host_of(request).read(market.bars, instrument, interval, limit)
    except market.UnknownSeriesError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/market/quality")
def quality(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    caller: Caller = Viewer,
) -> dict[str, Any]:
    """Quality control's latest findings and the rows it quarantined."""
    return host_of(request).read(market.quality, limit)


@router.get("/agents")
def agents(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """Each agent's last action and errors in this process, the bus services' heartbeats,
    and the scheduled jobs."""
    host = host_of(request)
    scheduler = request.app.state.scheduler
    return {
        "agents": host.board.view(),
        "bus": activity.bus_view(request.app.state.services),
        "scheduler": scheduler.status() if scheduler is not None else None,
    }


@router.get("/audit")
def audit(
    request: Request,
    query: Annotated[audit_trail.AuditQuery, Query()],
    caller: Caller = Viewer,
) -> dict[str, Any]:
    """Orders with their decision, gate verdicts, approvals and fills, and other events,
    newest first; filtered by text, strategy, instrument, actor and time."""
    return host_of(request).read(audit_trail.audit, query)


def _digest(desk: Desk) -> tuple[str, int]:
    # Moves made outside this process's turns (a risk service's halt on the bus, a fill
    # from a venue) show here: the gate's state and the audit log's length.
    return desk.gateway.trading_state.value, AuditLog(desk.store).count()


def _peek(request: Request) -> tuple[str, int] | None:
    host = host_of(request)
    if not host.lock.acquire(blocking=False):  # a turn holds the desk: look next time
        return None
    try:
        return _digest(host.session.desk)
    finally:
        host.lock.release()


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
async def events(request: Request, caller: Caller = Viewer) -> StreamingResponse:
    """`changed` with the topics that moved (approvals, state, portfolio, orders, audit,
    agents, market, strategies), and a `ping` every 15 s; the page reloads only those."""
    host = host_of(request)
    closing: threading.Event = request.app.state.closing

    async def stream() -> AsyncIterator[str]:
        version, digest = host.version, await run_in_threadpool(_peek, request)
        last_sent, last_peek = time.monotonic(), time.monotonic()
        yield "event: hello\ndata: {}\n\n"
        while not closing.is_set() and not await request.is_disconnected():
            version, topics = await run_in_threadpool(host.wait_changed, version, 0.5)
            if time.monotonic() - last_peek >= DIGEST_S:
                last_peek = time.monotonic()
                seen = await run_in_threadpool(_peek, request)
                if seen is not None and digest is not None and seen != digest:
                    topics |= {"state", "orders", "portfolio", "audit", "approvals"}
                digest = seen or digest
            if topics:
                last_sent = time.monotonic()
                yield f"event: changed\ndata: {json.dumps({'topics': sorted(topics)})}\n\n"
            elif time.monotonic() - last_sent >= PING_S:
                last_sent = time.monotonic()
                yield f"event: ping\ndata: {json.dumps({'at': datetime.now().isoformat()})}\n\n"
            await asyncio.sleep(0)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _path(name: str) -> FilePath:
    if name == "plotly.min.js":
        import plotly

        return FilePath(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return WEB / name


@cache
def _asset(path: FilePath, mtime_ns: int) -> tuple[bytes, bytes, str]:
    """A static file, as is and gzipped, with its media type; read again when it changes."""
    name = path.name
    raw = path.read_bytes()
    kind = {"js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
    return raw, gzip.compress(raw, 6), f"{kind}; charset=utf-8"


@static.get("/static/{name}")
def asset(
    request: Request, name: Annotated[str, Path(pattern=r"^(cockpit\.(js|css)|plotly\.min\.js)$")]
) -> Response:
    """The page's script, style and plotly; gzipped when the browser takes it."""
    path = _path(name)
    try:
        raw, packed, kind = _asset(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise HTTPException(404, f"no static file {name}") from None
    # The page's own files are revalidated each load; plotly only changes with its package.
    age = 86_400 if name == "plotly.min.js" else 0
    headers = {"Cache-Control": f"public, max-age={age}", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=kind, headers={**headers, "Content-Encoding": "gzip"})
    return Response(raw, media_type=kind, headers=headers)
