"""A loopback server that answers as Alpaca's trading API v2 does, for alpaca-py's own clients:
the REST calls the venue makes (clock, orders, cancel, account, positions), authenticated by
the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (403 otherwise), and the trade-update
websocket (`/stream`: authenticate, listen, then `trade_updates` events). Shapes follow
Alpaca's API reference (the fields alpaca-py's models require, as strings where Alpaca sends
strings). A market order fills at `price` as it arrives while the market is open."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from interfaces.server import serve_in_background

NOW = "2026-12-01T15:00:00Z"


@dataclass
class FakeAlpaca:
    key: str
    secret: str
    cash: float
    price: float
    is_open: bool = True
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    positions: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    listeners: list[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=list)
    api_url: str = ""
    stream_url: str = ""
    loop: asyncio.AbstractEventLoop | None = None

    def fill_now(self, order_id: str, qty: float, price: float) -> None:
        """A print at the venue, from the test's thread (the server runs on its own loop)."""
        assert self.loop is not None, "no request has reached the server yet"
        asyncio.run_coroutine_threadsafe(self.fill(self.orders[order_id], qty, price), self.loop)

    def close_streams(self) -> None:
        """End every open trade-update stream, so the server can stop."""
        if self.loop is not None:
            for listener in list(self.listeners):
                self.loop.call_soon_threadsafe(listener.put_nowait, None)

    def seen(self) -> None:
        self.loop = asyncio.get_running_loop()

    def _order(self, body: dict[str, Any]) -> dict[str, Any]:
        order_type = body.get("type") or body.get("order_type") or "market"
        return {
            "id": str(uuid.uuid4()), "client_order_id": body.get("client_order_id") or "",
            "created_at": NOW, "updated_at": NOW, "submitted_at": NOW, "filled_at": None,
            "expired_at": None, "canceled_at": None, "failed_at": None, "replaced_at": None,
            "replaced_by": None, "replaces": None, "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS,
            body["symbol"])), "symbol": body["symbol"], "asset_class": "us_equity",
            "notional": None, "qty": str(body["qty"]), "filled_qty": "0",
            "filled_avg_price": None, "order_class": "simple", "order_type": order_type,
            "type": order_type, "side": body["side"], "time_in_force": body["time_in_force"],
            "limit_price": body.get("limit_price"), "stop_price": None, "status": "accepted",
            "extended_hours": False, "legs": None, "trail_percent": None, "trail_price": None,
            "hwm": None,
        }  # fmt: skip

    async def fill(self, order: dict[str, Any], qty: float, price: float) -> None:
        """A print at the venue: the order's cumulative figures move, a trade update goes out."""
        done = float(order["filled_qty"])
        cost = done * float(order["filled_avg_price"] or 0.0) + qty * price
        order["filled_qty"] = f"{done + qty:g}"
        order["filled_avg_price"] = f"{cost / (done + qty):.6f}"
        filled = done + qty >= float(order["qty"]) - 1e-12
        order["status"] = "filled" if filled else "partially_filled"
        sign = 1.0 if order["side"] == "buy" else -1.0
        self.positions[order["symbol"]] = self.positions.get(order["symbol"], 0.0) + sign * qty
        self.cash -= sign * qty * price
        event = {
            "event": "fill" if filled else "partial_fill", "timestamp": NOW, "order": order,
            "price": f"{price:g}", "qty": f"{qty:g}", "execution_id": str(uuid.uuid4()),
            "position_qty": f"{self.positions[order['symbol']]:g}",
        }  # fmt: skip
        for listener in self.listeners:
            await listener.put(event)


def _authorized(fake: FakeAlpaca, request: Request) -> bool:
    return (
        request.headers.get("apca-api-key-id") == fake.key
        and request.headers.get("apca-api-secret-key") == fake.secret
    )


def _app(fake: FakeAlpaca) -> Starlette:
    refused = JSONResponse({"code": 40310000, "message": "request is not authorized"}, 403)

    async def clock(request: Request) -> Response:
        if not _authorized(fake, request):
            return refused
        return JSONResponse(
            {"timestamp": NOW, "is_open": fake.is_open, "next_open": "2026-12-02T14:30:00Z",
             "next_close": "2026-12-01T21:00:00Z"}
        )  # fmt: skip

    async def orders(request: Request) -> Response:
        if not _authorized(fake, request):
            return refused
        if request.method == "GET":
            wanted = request.query_params.get("status", "open")
            listed = [
                o for o in fake.orders.values()
                if wanted == "all" or o["status"] in ("accepted", "new", "partially_filled")
            ]  # fmt: skip
            return JSONResponse(listed)
        fake.seen()
        body = json.loads(await request.body())
        fake.requests.append(("POST", "/v2/orders", body))
        if not fake.is_open:
            return JSONResponse({"code": 42210000, "message": "market is closed"}, 422)
        order = fake._order(body)
        fake.orders[order["id"]] = order
        answer = dict(order)  # as placed, before it fills
        if order["type"] == "market":
            await fake.fill(order, float(order["qty"]), fake.price)
        return JSONResponse(answer)

    async def one_order(request: Request) -> Response:
        if not _authorized(fake, request):
            return refused
        order = fake.orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse({"code": 40410000, "message": "order not found"}, 404)
        if request.method == "DELETE":
            fake.requests.append(("DELETE", request.url.path, {}))
            if order["status"] == "filled":
                return JSONResponse({"code": 42210000, "message": "order is filled"}, 422)
            order["status"] = "canceled"
            return Response(status_code=204)
        return JSONResponse(order)

    async def account(request: Request) -> Response:
        if not _authorized(fake, request):
            return refused
        return JSONResponse(
            {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, fake.key)), "account_number": "PA1TEST",
             "status": "ACTIVE", "currency": "USD", "cash": f"{fake.cash:.2f}",
             "buying_power": f"{fake.cash:.2f}", "pattern_day_trader": False}
        )  # fmt: skip

    async def positions(request: Request) -> Response:
        if not _authorized(fake, request):
            return refused
        return JSONResponse(
            [{"asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, s)), "symbol": s,
              "exchange": "NASDAQ", "asset_class": "us_equity",
              "avg_entry_price": f"{fake.price:g}", "qty": f"{q:g}",
              "side": "long" if q > 0 else "short", "cost_basis": f"{q * fake.price:.2f}"}
             for s, q in fake.positions.items() if q]
        )  # fmt: skip

    async def stream(socket: WebSocket) -> None:
        await socket.accept()
        hello = json.loads(await socket.receive_text())
        data = hello.get("data") or {}
        ok = (hello.get("action") == "authenticate" and data.get("key_id") == fake.key
              and data.get("secret_key") == fake.secret)  # fmt: skip
        await socket.send_text(json.dumps(
            {"stream": "authorization",
             "data": {"action": "authenticate", "status": "authorized" if ok else "unauthorized"}}
        ))  # fmt: skip
        if not ok:
            await socket.close()
            return
        listen = json.loads(await socket.receive_text())
        streams = (listen.get("data") or {}).get("streams") or []
        await socket.send_text(json.dumps({"stream": "listening", "data": {"streams": streams}}))
        events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        fake.listeners.append(events)
        try:
            while (event := await events.get()) is not None:
                await socket.send_text(json.dumps({"stream": "trade_updates", "data": event}))
        except WebSocketDisconnect:
            pass
        finally:
            fake.listeners.remove(events)

    return Starlette(
        routes=[
            Route("/v2/clock", clock),
            Route("/v2/orders", orders, methods=["GET", "POST"]),
            Route("/v2/orders/{order_id}", one_order, methods=["GET", "DELETE"]),
            Route("/v2/account", account),
            Route("/v2/positions", positions),
            WebSocketRoute("/stream", stream),
        ]
    )


@contextmanager
def serve_alpaca(key: str, secret: str, cash: float, price: float) -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca(key, secret, cash, price)
    with serve_in_background(_app(fake)) as url:  # type: ignore[arg-type]
        fake.api_url = url
        fake.stream_url = url.replace("http://", "ws://") + "/stream"
        try:
            yield fake
        finally:
            fake.close_streams()
