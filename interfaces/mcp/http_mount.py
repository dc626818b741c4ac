"""The MCP server inside the desk's HTTP app, at `/mcp/` (streamable HTTP, stateless, JSON
answers): the same desk, keys and approvals as `/v1`, so an order proposed over MCP waits in
`GET /v1/approvals` like any other. A request without a known `X-API-Key` is refused with
401 before it reaches the MCP server."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from interfaces.api.keys import KeyRing
from interfaces.desk_host import DeskHost

PATH = "/mcp"


class KeyRequired:
    """ASGI: HTTP requests pass only with a key the ring knows."""

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self._app = app
        self._keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if self._keys.identify(headers.get("x-api-key")) is None:
                body = json.dumps({"detail": "missing or unknown API key (X-API-Key)"}).encode()
                await send(
                    {"type": "http.response.start", "status": 401,
                     "headers": [(b"content-type", b"application/json"),
                                 (b"www-authenticate", b"X-API-Key")]}
                )  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)


def mcp_app(host: DeskHost, keys: KeyRing) -> tuple[ASGIApp, AbstractAsyncContextManager[Any]]:
    """The ASGI app to mount at PATH, and the context its session manager must run in (the
    parent app's lifespan)."""
    from interfaces.mcp.desk_tools import build_server

    server = build_server(host, keys)
    app = server.streamable_http_app(
        streamable_http_path="/", stateless_http=True, json_response=True, host="127.0.0.1"
    )
    return KeyRequired(app, keys), server.session_manager.run()
