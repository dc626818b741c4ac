"""The ccxt fetcher against a loopback server that speaks Bitstamp's REST wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.store import MarketDataStore, Store
from tests.fakes.bitstamp import FakeBitstamp, Reply, ohlc_body, serve_bitstamp
from tools.ingest.ccxt_fetcher import DataFetchError, OhlcvRequest, fetch_ohlcv
from tools.ingest.pipeline import ingest_bars


@pytest.fixture
def bitstamp() -> Iterator[FakeBitstamp]:
    with serve_bitstamp() as fake:
        yield fake


def _candles(raw: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "timestamp": str(int(r.ts.timestamp())),
            "open": str(r.open),
            "high": str(r.high),
            "low": str(r.low),
            "close": str(r.close),
            "volume": str(r.volume),
        }
        for r in raw.itertuples()
    ]


def _request(fake: FakeBitstamp) -> OhlcvRequest:
    return OhlcvRequest(
        exchange="bitstamp",
        symbol="BTC/USD",
        interval="1d",
        since=pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime(),
        limit=100,
        api_url=fake.api_url,
        timeout_ms=5000,
    )


def test_fetched_candles_are_stored(
    bitstamp: FakeBitstamp, store: Store, bitstamp_btc_raw: pd.DataFrame
):
    real = bitstamp_btc_raw[bitstamp_btc_raw["ts"] >= "2020-01-01"].head(100)
    bitstamp.ohlc_reply = Reply(200, ohlc_body("BTC/USD", _candles(real)))
    raw = fetch_ohlcv(_request(bitstamp))
    assert any(
        p.startswith("/api/v2/ohlc/btcusd/") and "step=86400" in p for p in bitstamp.requests
    )
    report = ingest_bars(store, raw, source="ccxt:bitstamp", calendar=SessionCalendar.CONTINUOUS)
    assert report.rows_stored == len(real) == 100
    back = MarketDataStore(store).read_bars("bitstamp", "BTC/USD", "1d")
    pd.testing.assert_series_equal(
        back["close"], real["close"].reset_index(drop=True), check_names=False
    )


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(500, b"<html>Internal Server Error</html>", "text/html"), "bitstamp"),
        (Reply(200, b"{not json", "application/json"), "bitstamp"),
        (
            Reply(
                200,
                json.dumps(
                    {"status": "error", "reason": "Invalid pair", "code": "API0005"}
                ).encode(),
            ),
            "bitstamp",
        ),
        (
            Reply(
                200,
                ohlc_body(
                    "BTC/USD",
                    [{"timestamp": "1577836800", "open": "7160", "high": "7250", "low": "7150"}],
                ),
            ),
            "unusable",
        ),
        (
            Reply(
                200,
                ohlc_body(
                    "BTC/USD",
                    [
                        {
                            "timestamp": "1577836800",
                            "open": "abc",
                            "high": "7250",
                            "low": "7150",
                            "close": "7200",
                            "volume": "1",
                        }
                    ],
                ),
            ),
            "unusable",
        ),
        (Reply(429, b'{"status": "error", "reason": "Rate limit exceeded"}'), "bitstamp"),
    ],
)
def test_malformed_or_error_responses_raise_and_store_nothing(
    bitstamp: FakeBitstamp, store: Store, reply: Reply, message: str
):
    bitstamp.ohlc_reply = reply
    before = store.row_counts()
    with pytest.raises(DataFetchError, match=message):
        raw = fetch_ohlcv(_request(bitstamp))
        ingest_bars(store, raw, source="ccxt:bitstamp", calendar=SessionCalendar.CONTINUOUS)
    assert store.row_counts() == before


def test_unknown_symbol_and_exchange_are_clear_errors(bitstamp: FakeBitstamp):
    with pytest.raises(DataFetchError, match="does not list DOGE/USD"):
        fetch_ohlcv(_request(bitstamp).model_copy(update={"symbol": "DOGE/USD"}))
    with pytest.raises(DataFetchError, match="ccxt has no exchange"):
        fetch_ohlcv(_request(bitstamp).model_copy(update={"exchange": "nosuchexchange"}))


def test_unreachable_exchange_is_a_clear_error():
    closed = OhlcvRequest(symbol="BTC/USD", api_url="http://127.0.0.1:9/api", timeout_ms=2000)
    with pytest.raises(DataFetchError, match=r"unreachable|refused"):
        fetch_ohlcv(closed)
