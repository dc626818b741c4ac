"""OHLCV from exchanges through ccxt: fetched in full, validated, then handed to the
ingestion pipeline. A malformed or error response raises before anything is stored."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from core.models.base import Identifier
from core.models.market import Interval
from tools.ingest.loaders import from_dataframe

if TYPE_CHECKING:
    import ccxt

_CANDLE_FIELDS = ("timestamp", "open", "high", "low", "close", "volume")


class DataFetchError(RuntimeError):
    """The exchange could not be reached or answered something we cannot use."""


class OhlcvRequest(BaseModel):
    """What to fetch; `api_url` points the exchange at a testnet, proxy or loopback server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: Identifier = "bitstamp"
    symbol: str = Field(min_length=3, max_length=32, pattern=r"^[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?$")
    interval: Interval = Interval.D1
    since: datetime | None = None
    limit: int = Field(default=1000, ge=1, le=1000)
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    timeout_ms: int = Field(default=10_000, ge=100, le=120_000)


def _exchange(request: OhlcvRequest) -> ccxt.Exchange:
    import ccxt

    exchange_class = getattr(ccxt, request.exchange, None)
    if exchange_class is None:
        raise DataFetchError(f"ccxt has no exchange {request.exchange!r}")
    exchange: ccxt.Exchange = exchange_class(
        {
            "enableRateLimit": True,
            "timeout": request.timeout_ms,
            # Kept so that a body that is not JSON can be told apart from "no candles".
            "enableLastJsonResponse": True,
            "enableLastHttpResponse": True,
        }
    )
    if request.api_url is not None:
        api = exchange.urls["api"]
        exchange.urls["api"] = (
            {k: request.api_url for k in api} if isinstance(api, dict) else request.api_url
        )
    return exchange


def _validated(candles: Any, request: OhlcvRequest) -> list[list[float]]:
    if not isinstance(candles, list):
        raise DataFetchError(f"{request.exchange} returned {type(candles).__name__}, not candles")
    rows: list[list[float]] = []
    for i, candle in enumerate(candles):
        if not isinstance(candle, list | tuple) or len(candle) < len(_CANDLE_FIELDS):
            raise DataFetchError(f"{request.exchange} candle {i} is malformed: {candle!r}")
        values = candle[: len(_CANDLE_FIELDS)]
        bad = [
            name
            for name, v in zip(_CANDLE_FIELDS, values, strict=True)
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v)
        ]
        if bad:
            raise DataFetchError(f"{request.exchange} candle {i} has unusable {bad}: {candle!r}")
        rows.append([float(v) for v in values])
    return rows


def fetch_ohlcv(request: OhlcvRequest) -> pd.DataFrame:
    """Fetch candles and return a raw bar frame (venue = the exchange id)."""
    import ccxt  # seconds to import: loaded when a fetch runs, not at `quantdesk` start

    exchange = _exchange(request)
    since = request.since
    since_ms = None if since is None else int(pd.Timestamp(since).timestamp() * 1000)
    try:
        candles = exchange.fetch_ohlcv(
            request.symbol, str(request.interval), since_ms, request.limit
        )
    except ccxt.BadSymbol as exc:
        raise DataFetchError(f"{request.exchange} does not list {request.symbol}: {exc}") from exc
    except ccxt.NetworkError as exc:
        raise DataFetchError(f"{request.exchange} unreachable: {exc}") from exc
    except ccxt.BaseError as exc:
        raise DataFetchError(f"{request.exchange} refused the request: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DataFetchError(
            f"{request.exchange} sent a response ccxt cannot parse: {exc!r}"
        ) from exc
    if exchange.last_json_response is None:
        body = str(exchange.last_http_response or "")[:80]
        raise DataFetchError(f"{request.exchange} answered with a body that is not JSON: {body!r}")
    rows = _validated(candles, request)
    frame = pd.DataFrame(rows, columns=list(_CANDLE_FIELDS))
    frame["timestamp"] = frame["timestamp"].astype("int64")
    return from_dataframe(
        frame,
        venue=request.exchange,
        symbol=request.symbol,
        interval=request.interval,
        source=f"ccxt:{request.exchange}",
    )
