"""A loopback server that answers as Bitstamp's private REST API v2 does: balances, limit and
market orders, cancels, order status and open orders, with requests authenticated the way
Bitstamp does (X-Auth headers, HMAC-SHA256 over the request; a bad signature is API0005).

Response shapes follow Bitstamp's API reference as quoted in ccxt's bitstamp adapter. The
public endpoints (markets, OHLC) come from `tests.fakes.bitstamp`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from itertools import count
from urllib.parse import parse_qs, urlparse

from tests.fakes.bitstamp import MARKETS
from tests.fakes.loopback import send, serve

PAIRS = {m["market_symbol"]: m["name"] for m in MARKETS}


@dataclass
class VenueOrder:
    id: int
    pair: str
    side: int  # 0 buy, 1 sell (Bitstamp's "type")
    amount: Decimal
    price: Decimal | None
    client_order_id: str
    status: str = "Open"
    transactions: list[dict[str, str | int]] = field(default_factory=list)

    @property
    def filled(self) -> Decimal:
        base = PAIRS[self.pair].split("/")[0].lower()
        return sum((Decimal(str(t[base])) for t in self.transactions), Decimal(0))

    def summary(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "datetime": "2026-11-25 10:00:00.000000",
            "type": str(self.side),
            "price": str(self.price) if self.price is not None else "0",
            "amount": str(self.amount - self.filled),
            "amount_at_create": str(self.amount),
            "currency_pair": PAIRS[self.pair],
            "market": PAIRS[self.pair],
            "client_order_id": self.client_order_id,
        }


@dataclass
class FakeBitstampTrading:
    api_key: str
    secret: str
    balances: dict[str, Decimal]
    orders: dict[int, VenueOrder] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    auth_headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    ids: count = field(default_factory=lambda: count(1_453_282_316_578_816))
    tids: count = field(default_factory=lambda: count(209_895_701))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def fill(self, order_id: int, amount: str, price: str, fee: str) -> None:
        """The market trades against a resting order (a test's lever)."""
        with self.lock:
            order = self.orders[order_id]
            self._execute(order, Decimal(amount), Decimal(price), Decimal(fee))

    def _execute(self, order: VenueOrder, amount: Decimal, price: Decimal, fee: Decimal) -> None:
        base, quote = (c.lower() for c in PAIRS[order.pair].split("/"))
        order.transactions.append(
            {
                "tid": next(self.tids),
                "price": str(price),
                "fee": str(fee),
                base: str(amount),
                quote: str(amount * price),
                "datetime": "2026-11-25 10:00:01.000000",
                "type": 2,
            }
        )
        sign = 1 if order.side == 0 else -1
        self.balances[base] = self.balances.get(base, Decimal(0)) + sign * amount
        self.balances[quote] = self.balances.get(quote, Decimal(0)) - sign * amount * price - fee
        if order.filled >= order.amount:
            order.status = "Finished"

    def place(self, pair: str, side: int, form: dict[str, str], market_price: str | None) -> dict:
        order = VenueOrder(
            id=next(self.ids),
            pair=pair,
            side=side,
            amount=Decimal(form["amount"]),
            price=Decimal(form["price"]) if "price" in form else None,
            client_order_id=form.get("client_order_id", ""),
        )
        if order.amount <= 0:
            return {"status": "error", "reason": {"__all__": ["Minimum order size is 10 USD."]}}
        self.orders[order.id] = order
        if market_price is not None:
            self._execute(order, order.amount, Decimal(market_price), Decimal("0.5"))
        return order.summary() | {"price": order.summary()["price"]}

    def status(self, form: dict[str, str]) -> dict:
        order = self._find(form)
        if order is None:
            return {"status": "error", "reason": "Order not found.", "code": "API0013"}
        return {
            "id": order.id,
            "datetime": "2026-11-25 10:00:00.000000",
            "type": str(order.side),
            "status": order.status,
            "market": PAIRS[order.pair],
            "amount_remaining": str(order.amount - order.filled),
            "client_order_id": order.client_order_id,
            "transactions": order.transactions,
        }

    def cancel(self, form: dict[str, str]) -> dict:
        order = self._find(form)
        if order is None or order.status != "Open":
            return {"status": "error", "reason": "Order not found.", "code": "API0013"}
        order.status = "Canceled"
        return {
            "id": order.id,
            "amount": str(order.amount - order.filled),
            "price": str(order.price),
            "type": order.side,
            "market": PAIRS[order.pair],
        }

    def _find(self, form: dict[str, str]) -> VenueOrder | None:
        if "id" in form:
            return self.orders.get(int(form["id"]))
        wanted = form.get("client_order_id")
        return next((o for o in self.orders.values() if o.client_order_id == wanted), None)


def _handler(fake: FakeBitstampTrading, market_prices: dict[str, str]) -> type:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: object) -> None:
            send(self, status, json.dumps(body).encode())

        def do_GET(self) -> None:
            if urlparse(self.path).path == "/api/v2/markets/":
                self._reply(200, MARKETS)
            else:
                self._reply(404, {"status": "error", "reason": "Not found"})

        def _authentic(self, body: str) -> bool:
            headers = {k: self.headers.get(k, "") for k in (
                "X-Auth", "X-Auth-Nonce", "X-Auth-Timestamp", "X-Auth-Version",
                "X-Auth-Signature", "Content-Type",
            )}  # fmt: skip
            fake.auth_headers.append(headers)
            if headers["X-Auth"] != f"BITSTAMP {fake.api_key}":
                return False
            message = (
                headers["X-Auth"] + "POST" + f"http://127.0.0.1:{fake.port}{self.path}"
                + headers["Content-Type"] + headers["X-Auth-Nonce"]
                + headers["X-Auth-Timestamp"] + headers["X-Auth-Version"] + body
            )  # fmt: skip
            expected = hmac.new(fake.secret.encode(), message.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, headers["X-Auth-Signature"].lower())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            path = urlparse(self.path).path
            with fake.lock:
                fake.requests.append((path, form))
                if not self._authentic(body):
                    self._reply(
                        403, {"status": "error", "reason": "Invalid signature", "code": "API0005"}
                    )
                    return
                parts = path.strip("/").split("/")[2:]  # after api/v2
                reply: object
                if parts == ["account_balances"]:
                    reply = [
                        {"currency": c, "total": str(v), "available": str(v), "reserved": "0"}
                        for c, v in sorted(fake.balances.items())
                    ]
                elif parts[:1] in (["buy"], ["sell"]) and parts[-1] in PAIRS:
                    side = 0 if parts[0] == "buy" else 1
                    market = parts[1] == "market"
                    reply = fake.place(
                        parts[-1], side, form, market_prices.get(parts[-1]) if market else None
                    )
                elif parts == ["order_status"]:
                    reply = fake.status(form)
                elif parts == ["cancel_order"]:
                    reply = fake.cancel(form)
                elif parts == ["open_orders", "all"]:
                    reply = [o.summary() for o in fake.orders.values() if o.status == "Open"]
                else:
                    reply = {"status": "error", "reason": "Not found"}
            self._reply(200, reply)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serve_bitstamp_trading(
    api_key: str, secret: str, balances: dict[str, str], market_prices: dict[str, str]
) -> Iterator[FakeBitstampTrading]:
    fake = FakeBitstampTrading(api_key, secret, {k: Decimal(v) for k, v in balances.items()})
    with serve(_handler(fake, market_prices)) as port:
        fake.port = port
        yield fake
