"""The desk's HTTP app: the API under /v1 (OpenAPI at /openapi.json, docs at /docs), the MCP
server at /mcp/, the web page at /, and Slack's events endpoint at /slack/events when Slack
is configured."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

from core.logs import trace_id_var
from core.settings import Settings
from interfaces.api import routes_cockpit, routes_custody, routes_desk, routes_ops, routes_views
from interfaces.api.keys import KeyRing
from interfaces.api.rate_limit import RateLimiter
from interfaces.desk_host import DeskHost
from interfaces.mcp.http_mount import PATH as MCP_PATH
from interfaces.mcp.http_mount import mcp_app
from interfaces.scheduler import Scheduler
from interfaces.slack import SlackDesk

if TYPE_CHECKING:
    from agents.services.runtime import ServiceGroup

log = logging.getLogger("quantdesk.api")
PAGE = Path(__file__).parent.parent / "web" / "index.html"


def create_app(
    settings: Settings,
    host: DeskHost,
    scheduler: Scheduler | None = None,
    slack: SlackDesk | None = None,
    services: ServiceGroup | None = None,
) -> FastAPI:
    keys = KeyRing(settings.api_keys.get_secret_value() if settings.api_keys else None)
    mcp, mcp_sessions = mcp_app(host, keys)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with mcp_sessions:
            yield

    app = FastAPI(
        lifespan=lifespan,
        title="QuantDesk",
        version="1",
        description="Chat with the PM, answer approvals, and read the desk's state. Every "
        "/v1 route needs an `X-API-Key` whose role is high enough.",
    )
    # Starlette leaves event streams and already compressed files alone.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.state.host = host
    app.state.keys = keys
    app.state.limiter = RateLimiter(settings.api_rate_per_minute)
    app.state.scheduler = scheduler
    app.state.services = services.services if services is not None else None
    # Set when the server stops, so the cockpit's open event streams end and let it.
    app.state.closing = threading.Event()
    for router in (
        routes_desk.router,
        routes_custody.router,
        routes_views.router,
        routes_ops.router,
        routes_cockpit.router,
        routes_cockpit.static,
    ):
        app.include_router(router)
    app.mount(MCP_PATH, mcp)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8, and a lone surrogate in it
        # ("\ud800") cannot be encoded: the 422 became a 500. ASCII JSON escapes it.
        body = {"detail": jsonable_encoder(exc.errors())}
        return Response(
            json.dumps(body, ensure_ascii=True, default=str),
            status_code=422,
            media_type="application/json",
        )

    @app.middleware("http")
    async def request_ids(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("x-request-id", "")
        rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = trace_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            trace_id_var.reset(token)
        caller = getattr(request.state, "caller", None)
        log.info(
            "%s %s %s",
            request.method,
            request.url.path,
            response.status_code,
            extra={
                "request_id": rid,
                "caller": caller.name if caller else None,
                "ms": round((time.perf_counter() - started) * 1e3, 2),
            },
        )
        response.headers["X-Request-ID"] = rid
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text())

    if slack is not None:
        bolt = slack.app

        @app.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            """Slack's events, actions and slash commands; Bolt checks the signature."""
            body = await request.body()
            answer = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
            return to_starlette_response(answer)

    return app
