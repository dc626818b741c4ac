"""The market-data panel: the series the desk holds with their lag behind the desk's clock,
one series' bars with the desk's fills on it, and what quality control found or refused."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from agents.desk import Desk
from core.store import MarketDataStore, TradeLog
from interfaces.panels.stamps import iso, utc

BARS_MAX = 2000
OHLCV = ("open", "high", "low", "close", "volume")


class UnknownSeriesError(LookupError):
    """No stored series has this instrument and interval."""


def _finite(value: Any) -> float | None:
    # A refused row's price may be NaN or infinite, which JSON cannot carry.
    number = float(value)
    return number if math.isfinite(number) else None


def series(desk: Desk) -> list[dict[str, Any]]:
    quarantined = dict(
        ((f"{v}:{s}", str(i)), int(n))
        for v, s, i, n in desk.store.client.query(
            "SELECT venue, symbol, interval, count() FROM bars_quarantine "
            "GROUP BY venue, symbol, interval"
        ).result_rows
    )
    now = pd.Timestamp(desk.now)
    return [
        {
            "instrument": f"{s.venue}:{s.symbol}",
            "interval": s.interval,
            "rows": s.bars,
            "first": s.first.isoformat(),
            "last": s.last.isoformat(),
            "lag_s": round((now - pd.Timestamp(s.last)).total_seconds(), 1),
            "quarantined": quarantined.get((f"{s.venue}:{s.symbol}", s.interval), 0),
        }
        for s in MarketDataStore(desk.store).series()
    ]


def bars(desk: Desk, instrument: str, interval: str, limit: int) -> dict[str, Any]:
    venue, _, symbol = instrument.partition(":")
    stored = MarketDataStore(desk.store).read_bars(venue, symbol, interval)
    frame = stored.tail(min(limit, BARS_MAX))
    if frame.empty:
        raise UnknownSeriesError(f"no stored {interval} bars for {instrument}")
    first = utc(frame["ts"].iloc[0])
    fills = [
        {
            "ts": iso(f["ts"]),
            "side": str(f["side"]),
            "quantity": float(str(f["quantity"])),
            "price": float(str(f["price"])),
            "strategy_id": str(f["strategy_id"]),
            "order_id": str(f["order_id"]),
        }
        for f in TradeLog(desk.store).fills()
        if f["venue"] == venue and f["symbol"] == symbol and utc(str(f["ts"])) >= first
    ]
    return {
        "instrument": instrument,
        "interval": interval,
        "bars": [
            {
                "ts": pd.Timestamp(ts).isoformat(),
                "open": o,
                "high": h,
                "low": lo,
                "close": c,
                "volume": v,
            }
            for ts, o, h, lo, c, v in zip(
                frame["ts"], *(frame[k].to_numpy(float).tolist() for k in OHLCV), strict=True
            )
        ],
        "fills": fills,
    }


def quality(desk: Desk, limit: int) -> dict[str, Any]:
    client = desk.store.client
    findings = client.query(
        "SELECT ts, venue, symbol, interval, check_name, toString(severity), row_count, action, "
        "detail FROM data_quality_events ORDER BY ts DESC LIMIT {n:UInt32}",
        parameters={"n": limit},
    ).result_rows
    refused = client.query(
        "SELECT venue, symbol, interval, ts, close, reasons, quarantined_at FROM bars_quarantine "
        "ORDER BY quarantined_at DESC, row_id LIMIT {n:UInt32}",
        parameters={"n": limit},
    ).result_rows
    return {
        "findings": [
            {
                "ts": iso(ts),
                "instrument": f"{v}:{s}",
                "interval": str(i),
                "check": str(c),
                "severity": str(sev),
                "rows": int(n),
                "action": str(a),
                "detail": str(d),
            }
            for ts, v, s, i, c, sev, n, a, d in findings
        ],
        "quarantined": [
            {
                "instrument": f"{v}:{s}",
                "interval": str(i),
                "ts": iso(ts),
                "close": _finite(c),
                "reasons": [str(r) for r in reasons],
                "quarantined_at": iso(at),
            }
            for v, s, i, ts, c, reasons, at in refused
        ],
    }
