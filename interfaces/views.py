"""Read-only views of the desk for the API and the web page: positions, PnL with the equity
curve, risk, orders, strategies, reports and health. Plain data, or a typed model where the
desk has one (strategies); the API wraps the rest in models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from agents.desk import Desk
from agents.monitor import health as monitor_health
from core.store import MarketDataStore, TradeLog
from tools.risk import measure_portfolio
from tools.strategy_views import StrategyView, strategy_views

CURVE_DAYS = 120
CONTEXT_DAYS = 10
"""Closes shown before the first fill, so the curve starts from where the desk stood."""


def positions(desk: Desk) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in desk.gateway.positions()]


def equity_curve(desk: Desk) -> list[dict[str, Any]]:
    """The desk's equity at each daily close, from the booked fills marked to the stored
    closes (cash moves on each fill; holdings are valued at the close)."""
    fills = pd.DataFrame(TradeLog(desk.store).fills())
    cash0 = float(desk.limits.starting_cash)
    if fills.empty:
        return [{"ts": desk.now.isoformat(), "equity": float(desk.gateway.equity)}]
    fills["ts"] = pd.to_datetime(fills["ts"], utc=True)
    fills["signed"] = (
        fills["quantity"]
        .astype(float)
        .where(fills["side"] == "buy", -fills["quantity"].astype(float))
    )
    market = MarketDataStore(desk.store)
    first_day = fills["ts"].min().floor("D")
    stamps: set[pd.Timestamp] = set()
    closes: dict[tuple[str, str], pd.Series] = {}
    for (venue, symbol), _ in fills.groupby(["venue", "symbol"]):
        frame = market.read_bars(str(venue), str(symbol), "1d")
        series = pd.Series(
            frame["close"].to_numpy(float), index=pd.to_datetime(frame["ts"], utc=True)
        )
        closes[(str(venue), str(symbol))] = series
        stamps.update(series.index)
    days = sorted(d for d in stamps if d >= first_day - pd.Timedelta(days=CONTEXT_DAYS))
    days = days[-CURVE_DAYS:]
    curve = []
    for day in days:
        end = day + pd.Timedelta(days=1)
        done = fills[fills["ts"] < end]
        cash = (
            cash0
            - float((done["signed"] * done["price"].astype(float)).sum())
            - float(done["fee"].astype(float).sum())
        )
        held = 0.0
        for (venue, symbol), group in done.groupby(["venue", "symbol"]):
            series = closes[(str(venue), str(symbol))]
            mark = series[series.index <= day]
            price = float(mark.iloc[-1]) if len(mark) else float(group["price"].iloc[-1])
            held += float(group["signed"].sum()) * price
        curve.append({"ts": day.isoformat(), "equity": round(cash + held, 2)})
    # The desk's clock runs past the last stored close: end on the gateway's own mark.
    curve.append({"ts": desk.now.isoformat(), "equity": round(float(desk.gateway.equity), 2)})
    return curve


def with_drawdown(curve: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """Each point's fall from the highest equity so far (the starting cash counts), as a
    fraction <= 0."""
    peak = start
    out = []
    for point in curve:
        peak = max(peak, point["equity"])
        drawdown = point["equity"] / peak - 1 if peak > 0 else 0.0
        out.append({**point, "drawdown": round(drawdown, 6)})
    return out


def pnl(desk: Desk) -> dict[str, Any]:
    held = desk.gateway.positions()
    curve = with_drawdown(equity_curve(desk), float(desk.limits.starting_cash))
    return {
        "equity": float(desk.gateway.equity),
        "cash": float(desk.gateway.account().cash),
        "realized_pnl": float(sum(p.realized_pnl for p in held)),
        "unrealized_pnl": float(sum(p.unrealized_pnl for p in held)),
        "max_drawdown": min((p["drawdown"] for p in curve), default=0.0),
        "equity_curve": curve,
    }


def risk(desk: Desk) -> dict[str, Any]:
    fraction = desk.settings.risk_breach_fraction
    return measure_portfolio(desk.gateway, MarketDataStore(desk.store), fraction).model_dump()


def orders(desk: Desk, limit: int) -> list[dict[str, Any]]:
    rows = desk.store.client.query(
        "SELECT toString(order_id), argMax(status, seq), any(strategy_id), any(venue), "
        "any(symbol), any(side), any(quantity), max(filled_quantity), min(ts) AS first FROM orders "
        "GROUP BY order_id ORDER BY first DESC LIMIT {n:UInt32}",
        parameters={"n": limit},
    ).result_rows
    names = [
        "order_id",
        "status",
        "strategy_id",
        "venue",
        "symbol",
        "side",
        "quantity",
        "filled",
        "ts",
    ]
    return [
        dict(zip(names, (*row[:-1], pd.Timestamp(row[-1]).isoformat()), strict=True))
        for row in rows
    ]


def strategies(desk: Desk) -> list[StrategyView]:
    """Each strategy: kind, parameters, stage history, backtest and realised figures."""
    return strategy_views(desk.store, desk.limits, desk.gateway)


def report_dirs(desk: Desk) -> list[Path]:
    """The desk's reports (`desk-<stamp>`) newest first, then research's backtest reports
    (`<kind>-<data version>`, with their plots and monthly-returns heatmap)."""
    root = desk.settings.data_dir / "reports"
    if not root.exists():
        return []
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    desk_reports = sorted((p for p in folders if p.name.startswith("desk-")), reverse=True)
    return desk_reports + sorted(p for p in folders if not p.name.startswith("desk-"))


def reports(desk: Desk) -> list[dict[str, Any]]:
    return [
        {"name": d.name, "files": sorted(f.name for f in d.iterdir() if f.is_file())}
        for d in report_dirs(desk)
    ]


def health(desk: Desk) -> dict[str, Any]:
    return dict(monitor_health(desk))
