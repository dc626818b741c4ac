"""A loopback HTTP server that answers as Bitstamp's public REST API v2 does.

Response shapes follow Bitstamp's API reference (GET /api/v2/markets/, GET /api/v2/ohlc/{pair}/
and GET /api/v2/order_book/{pair}/), as quoted in ccxt's bitstamp adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.fakes.loopback import send, serve

MARKETS = [
    {
        "name": "BTC/USD",
        "market_symbol": "btcusd",
        "base_currency": "BTC",
        "base_decimals": 8,
        "counter_currency": "USD",
        "counter_decimals": 0,
        "minimum_order_value": "10",
        "trading": "Enabled",
        "instant_order_counter_decimals": 2,
        "instant_and_market_orders": "Enabled",
        "description": "Bitcoin / U.S. dollar",
        "market_type": "SPOT",
    },
    {
        "name": "ETH/USD",
        "market_symbol": "ethusd",
        "base_currency": "ETH",
        "base_decimals": 8,
        "counter_currency": "USD",
        "counter_decimals": 1,
        "minimum_order_value": "10",
        "trading": "Enabled",
        "instant_order_counter_decimals": 2,
        "instant_and_market_orders": "Enabled",
        "description": "Ether / U.S. dollar",
        "market_type": "SPOT",
    },
]


def ohlc_body(pair: str, candles: list[dict[str, str]]) -> bytes:
    return json.dumps({"data": {"pair": pair, "ohlc": candles}}).encode()


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class FakeBitstamp:
    """Serves markets; OHLC answers come from `ohlc_reply`, order book snapshots from
    `order_books` by pair id (settable per test)."""

    ohlc_reply: Reply = field(default_factory=lambda: Reply(200, ohlc_body("BTC/USD", [])))
    order_books: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def _handler(fake: FakeBitstamp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            url = urlparse(self.path)
            if url.path == "/api/v2/markets/":
                reply = Reply(200, json.dumps(MARKETS).encode())
            elif url.path.startswith("/api/v2/ohlc/"):
                parse_qs(url.query)
                reply = fake.ohlc_reply
            elif url.path.startswith("/api/v2/order_book/"):
                pair = url.path.removeprefix("/api/v2/order_book/").strip("/")
                book = fake.order_books.get(pair)
                reply = (
                    Reply(200, json.dumps(book).encode())
                    if book is not None
                    else Reply(404, b'{"status": "error", "reason": "Not found"}')
                )
            else:
                reply = Reply(404, b'{"status": "error", "reason": "Not found"}')
            send(self, reply.status, reply.body, reply.content_type)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serve_bitstamp() -> Iterator[FakeBitstamp]:
    fake = FakeBitstamp()
    with serve(_handler(fake)) as port:
        fake.port = port
        yield fake
