"""US equities through Alpaca (`alpaca-py`), the paper endpoint unless told otherwise: the same
calls as the ccxt venue (place, cancel, order state, open orders, balances), so `LiveExecutor`
runs the gate, the ledger and reconciliation for it unchanged. Orders go only while the
market is open (Alpaca's clock); fills come from the order's cumulative figures, and the
trade-update stream (`TradeUpdates`) says which orders to read again at once."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from core.models.trading import Order, OrderType, Side, TimeInForce
from gateway.venues.ccxt_venue import VenueBalance, VenueError, VenueFill, VenueOrderState

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

# Alpaca's order statuses, as ccxt's three (what LiveExecutor reads).
_STATUS = {
    "filled": "closed",
    "canceled": "canceled", "expired": "canceled", "rejected": "canceled",
    "done_for_day": "canceled", "replaced": "canceled", "stopped": "canceled",
}  # fmt: skip
_TIF = {TimeInForce.DAY: "day", TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc",
        TimeInForce.FOK: "fok"}  # fmt: skip
FILL_EVENTS = frozenset({"fill", "partial_fill"})


def _code(status: int | None) -> str:
    if status in (401, 403):
        return "VENUE_AUTH"
    if status == 404:
        return "ORDER_NOT_FOUND"
    if status in (400, 422):
        return "VENUE_REJECTED"
    return "VENUE_ERROR"


class AlpacaVenue:
    """One Alpaca account. `api_url` points it at a proxy or a loopback server."""

    def __init__(
        self,
        api_key: SecretStr,
        secret: SecretStr,
        *,
        paper: bool = True,
        api_url: str | None = None,
        stream_url: str | None = None,
    ) -> None:
        from alpaca.trading.client import TradingClient

        self.exchange_id = "alpaca"
        self.paper = paper
        self.api_url = api_url
        self.stream_url = stream_url
        self._keys = (api_key, secret)
        self._client = TradingClient(
            api_key.get_secret_value(), secret.get_secret_value(), paper=paper,
            url_override=api_url,
        )  # fmt: skip
        # Alpaca reports cumulative fills per order: each read books only what is new.
        self._seen: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> AlpacaVenue:
        if settings.alpaca_api_key is None or settings.alpaca_api_secret is None:
            raise VenueError(
                "VENUE_NO_KEYS", "set QUANTDESK_ALPACA_API_KEY and QUANTDESK_ALPACA_API_SECRET"
            )
        return cls(
            settings.alpaca_api_key, settings.alpaca_api_secret, paper=settings.alpaca_paper,
            api_url=settings.alpaca_api_url, stream_url=settings.alpaca_stream_url,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"AlpacaVenue(paper={self.paper}, api_url={self.api_url!r}, keys=***)"

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        from alpaca.common.exceptions import APIError
        from requests import RequestException

        try:
            return fn(*args)
        except APIError as exc:
            code = _code(exc.status_code)
            log.warning("venue alpaca %s failed: %s", what, code)
            raise VenueError(code, f"alpaca {what}: {exc}") from None
        except RequestException as exc:
            log.warning("venue alpaca %s failed: unreachable", what)
            raise VenueError("VENUE_UNREACHABLE", f"alpaca {what}: {type(exc).__name__}") from None

    def market_open(self) -> bool:
        return bool(self._call("get_clock", self._client.get_clock).is_open)

    def place(self, order: Order) -> str:
        """Send an order the gate accepted, while the market is open; returns Alpaca's id."""
        from alpaca.trading.enums import OrderSide
        from alpaca.trading.enums import TimeInForce as AlpacaTif
        from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

        if not self.market_open():
            raise VenueError("VENUE_MARKET_CLOSED", f"{order.symbol}: the market is closed")
        tif = _TIF.get(order.time_in_force)
        if tif is None:
            raise VenueError("VENUE_REJECTED", f"alpaca has no time in force {order.time_in_force}")
        fields: dict[str, Any] = {
            "symbol": order.symbol, "qty": order.quantity,
            "side": OrderSide.BUY if order.side is Side.BUY else OrderSide.SELL,
            "time_in_force": AlpacaTif(tif), "client_order_id": order.client_order_id,
        }  # fmt: skip
        request = (
            LimitOrderRequest(limit_price=order.limit_price, **fields)
            if order.order_type is OrderType.LIMIT
            else MarketOrderRequest(**fields)
        )
        placed = self._call("submit_order", self._client.submit_order, request)
        return str(placed.id)

    def cancel(self, venue_order_id: str, symbol: str) -> None:
        self._call("cancel_order", self._client.cancel_order_by_id, venue_order_id)

    def order_state(self, venue_order_id: str, symbol: str) -> VenueOrderState:
        return self._state(self._call("get_order", self._client.get_order_by_id, venue_order_id))

    def open_orders(self) -> list[VenueOrderState]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        asked = GetOrdersRequest(status=QueryOrderStatus.OPEN)
        return [self._state(o) for o in self._call("get_orders", self._client.get_orders, asked)]

    def balances(self) -> dict[str, VenueBalance]:
        """Cash as "USD" and each position's shares under its symbol."""
        account = self._call("get_account", self._client.get_account)
        cash = float(account.cash or 0.0)
        out = {"USD": VenueBalance("USD", cash, float(account.buying_power or cash), 0.0)}
        for position in self._call("get_positions", self._client.get_all_positions):
            shares = float(position.qty)
            out[position.symbol] = VenueBalance(position.symbol, shares, shares, 0.0)
        return out

    def _state(self, raw: Any) -> VenueOrderState:
        venue_id = str(raw.id)
        filled = float(raw.filled_qty or 0.0)
        average = float(raw.filled_avg_price or 0.0)
        fills = []
        before_qty, before_cost = self._seen.get(venue_id, (0.0, 0.0))
        if filled > before_qty + 1e-12 and average > 0:
            cost = filled * average
            fills.append(
                VenueFill(
                    f"{venue_id}@{filled:g}", filled - before_qty,
                    (cost - before_cost) / (filled - before_qty), 0.0,
                )
            )  # fmt: skip
            self._seen[venue_id] = (filled, cost)
        status = str(getattr(raw.status, "value", raw.status))
        quantity = float(raw.qty or 0.0)
        return VenueOrderState(
            venue_order_id=venue_id,
            client_order_id=str(raw.client_order_id or ""),
            symbol=str(raw.symbol or ""),
            side=str(getattr(raw.side, "value", raw.side) or ""),
            status=_STATUS.get(status, "open"),
            remaining=max(quantity - filled, 0.0),
            fills=tuple(fills),
        )


class TradeUpdates:
    """Alpaca's trade-update stream on a thread of its own: the ids of orders with a new fill
    or a final state, for the executor to read again (`take`). The stream only says when;
    the order's own figures say what is booked, so a missed or repeated event books nothing
    twice."""

    def __init__(self, venue: AlpacaVenue) -> None:
        from alpaca.trading.stream import TradingStream

        api_key, secret = venue._keys
        self._stream = TradingStream(
            api_key.get_secret_value(), secret.get_secret_value(), paper=venue.paper,
            url_override=venue.stream_url,  # type: ignore[arg-type]  # None: Alpaca's own
        )  # fmt: skip
        self._ids: queue.Queue[str] = queue.Queue()
        self._stream.subscribe_trade_updates(self._on_update)
        self._thread = threading.Thread(target=self._run, name="alpaca-updates", daemon=True)

    async def _on_update(self, update: Any) -> None:
        event = str(getattr(update.event, "value", update.event))
        if event in FILL_EVENTS or event in _STATUS:
            self._ids.put(str(update.order.id))

    def _run(self) -> None:
        self._stream.run()

    def start(self) -> TradeUpdates:
        self._thread.start()
        return self

    def take(self, timeout: float = 0.0) -> list[str]:
        """The order ids heard since the last call (waiting up to `timeout` for the first)."""
        ids: list[str] = []
        try:
            ids.append(self._ids.get(timeout=timeout) if timeout else self._ids.get_nowait())
            while True:
                ids.append(self._ids.get_nowait())
        except queue.Empty:
            return ids

    def stop(self) -> None:
        if self._thread.is_alive():
            deadline = time.monotonic() + 10
            while self._stream._loop is None and time.monotonic() < deadline:
                time.sleep(0.05)  # the stream's loop is set as its thread starts
            loop = self._stream._loop
            if loop is not None:
                self._stream.stop()
                if loop.is_running():
                    # Closing the socket ends the stream's wait for a message (else up to 5 s).
                    asyncio.run_coroutine_threadsafe(self._stream.close(), loop).result(timeout=5)
        self._thread.join(timeout=10)
