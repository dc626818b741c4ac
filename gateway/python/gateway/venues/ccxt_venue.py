"""A live exchange through ccxt (testnet or live): place, cancel and fetch orders, fetch
balances. Keys come from settings as SecretStr and never appear in logs, reprs or errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import ccxt
from pydantic import SecretStr

from core.models.trading import Order, OrderType
from core.settings import Settings

log = logging.getLogger(__name__)


class VenueError(RuntimeError):
    """The venue refused or could not be reached; `code` is stable, the text never holds keys."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class VenueFill:
    fill_id: str
    quantity: float
    price: float
    fee: float


@dataclass(frozen=True)
class VenueOrderState:
    venue_order_id: str
    client_order_id: str
    symbol: str
    side: str
    status: str  # ccxt's: open, closed, canceled
    remaining: float | None
    fills: tuple[VenueFill, ...]


@dataclass(frozen=True)
class VenueBalance:
    currency: str
    total: float
    free: float
    used: float


_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (ccxt.AuthenticationError, "VENUE_AUTH"),
    (ccxt.OrderNotFound, "ORDER_NOT_FOUND"),
    (ccxt.InsufficientFunds, "VENUE_REJECTED"),
    (ccxt.InvalidOrder, "VENUE_REJECTED"),
    (ccxt.NetworkError, "VENUE_UNREACHABLE"),
    (ccxt.ExchangeError, "VENUE_ERROR"),
)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


class CcxtVenue:
    """One exchange account. `api_url` points it at a testnet, proxy or loopback server."""

    def __init__(
        self,
        exchange: str,
        api_key: SecretStr,
        secret: SecretStr,
        *,
        api_url: str | None = None,
        sandbox: bool = False,
        timeout_ms: int = 10_000,
    ) -> None:
        exchange_class = getattr(ccxt, exchange, None)
        if exchange_class is None:
            raise VenueError("VENUE_UNKNOWN", f"ccxt has no exchange {exchange!r}")
        self.exchange_id = exchange
        self._client: Any = exchange_class(
            {
                "apiKey": api_key.get_secret_value(),
                "secret": secret.get_secret_value(),
                "enableRateLimit": True,
                "timeout": timeout_ms,
            }
        )
        if sandbox and api_url is None:
            self._client.set_sandbox_mode(True)
        if api_url is not None:
            api = self._client.urls["api"]
            self._client.urls["api"] = (
                {k: api_url for k in api} if isinstance(api, dict) else api_url
            )
        self.api_url = api_url

    @classmethod
    def from_settings(cls, settings: Settings) -> CcxtVenue:
        if settings.venue_api_key is None or settings.venue_api_secret is None:
            raise VenueError(
                "VENUE_NO_KEYS", "set QUANTDESK_VENUE_API_KEY and QUANTDESK_VENUE_API_SECRET"
            )
        return cls(
            settings.venue_exchange,
            settings.venue_api_key,
            settings.venue_api_secret,
            api_url=settings.venue_api_url,
            sandbox=settings.venue_sandbox,
        )

    def __repr__(self) -> str:
        return f"CcxtVenue({self.exchange_id!r}, api_url={self.api_url!r}, keys=***)"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            for kind, code in _ERRORS:
                if isinstance(exc, kind):
                    log.warning("venue %s %s failed: %s", self.exchange_id, what, code)
                    raise VenueError(code, f"{self.exchange_id} {what}: {exc}") from None
            raise

    def place(self, order: Order) -> str:
        """Send an order the gate accepted; returns the venue's order id."""
        result = self._call(
            "create_order",
            self._client.create_order,
            order.symbol,
            order.order_type.value,
            order.side.value,
            order.quantity,
            order.limit_price if order.order_type is OrderType.LIMIT else None,
            {"client_order_id": order.client_order_id},
        )
        venue_order_id = result.get("id") if isinstance(result, dict) else None
        if not venue_order_id:
            raise VenueError("VENUE_ERROR", f"{self.exchange_id} create_order returned no id")
        return str(venue_order_id)

    def cancel(self, venue_order_id: str, symbol: str) -> None:
        self._call("cancel_order", self._client.cancel_order, venue_order_id, symbol)

    def order_state(self, venue_order_id: str, symbol: str) -> VenueOrderState:
        raw = self._call("fetch_order", self._client.fetch_order, venue_order_id, symbol)
        return self._state(raw, symbol)

    def open_orders(self) -> list[VenueOrderState]:
        raw = self._call("fetch_open_orders", self._client.fetch_open_orders)
        return [self._state(o, str(o.get("symbol") or "")) for o in raw]

    def balances(self) -> dict[str, VenueBalance]:
        raw = self._call("fetch_balance", self._client.fetch_balance)
        out = {}
        for currency, amounts in (raw.get("total") or {}).items():
            total = _number(amounts)
            if total is None:
                continue
            out[currency] = VenueBalance(
                currency,
                total,
                _number((raw.get("free") or {}).get(currency)) or 0.0,
                _number((raw.get("used") or {}).get(currency)) or 0.0,
            )
        return out

    def _state(self, raw: dict[str, Any], symbol: str) -> VenueOrderState:
        base = symbol.split("/")[0]
        fills = []
        for trade in raw.get("trades") or []:
            info = trade.get("info") or {}
            quantity = _number(trade.get("amount")) or _number(info.get(base.lower()))
            price = _number(trade.get("price"))
            fee = _number((trade.get("fee") or {}).get("cost"))
            if fee is None:
                fee = _number(info.get("fee")) or 0.0
            if quantity and price:
                fills.append(
                    VenueFill(str(trade.get("id") or info.get("tid")), quantity, price, fee)
                )
        info = raw.get("info") or {}
        remaining = _number(raw.get("remaining"))
        if remaining is None:
            remaining = _number(info.get("amount_remaining"))
        if remaining is None and raw.get("status") == "open":
            remaining = _number(raw.get("amount"))
        return VenueOrderState(
            venue_order_id=str(raw.get("id")),
            client_order_id=str(raw.get("clientOrderId") or info.get("client_order_id") or ""),
            symbol=symbol,
            side=str(raw.get("side") or ""),
            status=str(raw.get("status") or ""),
            remaining=remaining,
            fills=tuple(fills),
        )
