"""A loopback websocket server that speaks Bitstamp's public websocket API v2
(wss://ws.bitstamp.net), as documented at https://www.bitstamp.net/websocket/v2/ and as ccxt's
adapter (ccxt/pro/bitstamp.py) reads it:

    -> {"event": "bts:subscribe", "data": {"channel": "live_trades_btcusd"}}
    <- {"event": "bts:subscription_succeeded", "channel": "live_trades_btcusd", "data": {}}
    <- {"event": "trade", "channel": "live_trades_btcusd", "data": {"id": ..., ...}}
    -> {"event": "bts:heartbeat"}
    <- {"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}}

The trades come from a recording (tests/fakes/recorded/bitstamp_ws_live_trades.json), played
once as the venue's tape: a connection is sent the frames of the channels it subscribed to,
from where the tape stands, starting once it holds every channel the tape names (so a test
sees each trade exactly once). It can cut the connection after N frames, as a network drop
does, and then either re-send the last M frames to the next connection (a venue or proxy that
replays) or skip K frames (trades printed while the line was down, which a live-only channel
such as live_trades never sends again).

Built on aiohttp's server: aiohttp comes with ccxt, the websocket client under test.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

RECORDED = Path(__file__).resolve().parent / "recorded" / "bitstamp_ws_live_trades.json"
RECORDED_BOOKS = Path(__file__).resolve().parent / "recorded" / "bitstamp_ws_books.json"


def recorded_frames() -> list[dict[str, Any]]:
    """The recorded trade frames, in the order the venue sent them."""
    frames: list[dict[str, Any]] = json.loads(RECORDED.read_text())["messages"]
    return frames


def recorded_book_tape() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The BTC/USD book's REST snapshot, and the trade and book-delta frames in the order
    the venue sent them."""
    recorded = json.loads(RECORDED_BOOKS.read_text())
    return recorded["snapshot"], recorded["messages"]


@dataclass
class FakeBitstampWs:
    """The tape and what the server saw; `drop_after`, `resend` and `interval_s` set per test."""

    frames: list[dict[str, Any]] = field(default_factory=recorded_frames)
    drop_after: int | None = None  # cut the first connection once the tape reaches this frame
    resend: int = 0  # frames to re-send to the connection that follows the cut
    lost: int = 0  # frames printed while the line was down: the next connection never sees them
    interval_s: float = 0.002  # between frames, so the client reads them as a stream
    port: int = 0
    connections: int = 0
    subscriptions: list[str] = field(default_factory=list)
    heartbeats: int = 0
    sent: int = 0  # trade frames sent, repeats included
    cursor: int = 0  # where the tape stands
    dropped: bool = False
    resumed: bool = False  # the connection after the cut has begun

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def channels(self) -> set[str]:
        return {frame["channel"] for frame in self.frames if "channel" in frame}


def _app(fake: FakeBitstampWs) -> web.Application:
    sockets: set[web.WebSocketResponse] = set()

    async def play(ws: web.WebSocketResponse, request: web.Request, subscribed: set[str]) -> None:
        if fake.dropped and not fake.resumed:
            fake.resumed = True
            fake.cursor = max(0, fake.cursor - fake.resend + fake.lost)
        while fake.cursor < len(fake.frames):
            frame = fake.frames[fake.cursor]
            fake.cursor += 1
            if frame.get("channel") in subscribed:
                await ws.send_str(json.dumps(frame))
                fake.sent += 1
            if not fake.dropped and fake.cursor == fake.drop_after:
                fake.dropped = True
                if request.transport is not None:
                    request.transport.abort()  # no close frame: the line just goes dead
                return
            await asyncio.sleep(fake.interval_s)

    async def connect(request: web.Request) -> web.WebSocketResponse:
        # autoping answers protocol pings, which ccxt's keepalive sends
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        sockets.add(ws)
        fake.connections += 1
        subscribed: set[str] = set()
        player: asyncio.Task[None] | None = None
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                asked = json.loads(message.data)
                event = asked.get("event")
                channel = (asked.get("data") or {}).get("channel", "")
                if event == "bts:subscribe":
                    subscribed.add(channel)
                    fake.subscriptions.append(channel)
                    await ws.send_json(
                        {"event": "bts:subscription_succeeded", "channel": channel, "data": {}}
                    )
                    if player is None and fake.channels <= subscribed:
                        player = asyncio.create_task(play(ws, request, subscribed))
                elif event == "bts:unsubscribe":
                    subscribed.discard(channel)
                    await ws.send_json(
                        {"event": "bts:unsubscription_succeeded", "channel": channel, "data": {}}
                    )
                elif event == "bts:heartbeat":
                    fake.heartbeats += 1
                    await ws.send_json(
                        {"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}}
                    )
        finally:
            sockets.discard(ws)
            if player is not None:
                player.cancel()
        return ws

    async def close_all(_app: web.Application) -> None:
        for ws in list(sockets):
            await ws.close(code=1001, message=b"server shutdown")

    app = web.Application()
    app.router.add_get("/", connect)
    app.on_shutdown.append(close_all)
    return app


@contextmanager
def serve_bitstamp_ws(fake: FakeBitstampWs | None = None) -> Iterator[FakeBitstampWs]:
    """Serve `fake` on a free loopback port, on its own thread and event loop."""
    fake = fake or FakeBitstampWs()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_app(fake), handle_signals=False)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.port = int(runner.addresses[0][1])

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
