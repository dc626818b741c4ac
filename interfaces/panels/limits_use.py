"""How much of each limit the desk uses now, and its exposure by asset: gross and net
exposure, drawdown from the equity peak, today's loss, each instrument's position and each
strategy's notional against the limits file's figures."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agents.desk import Desk
from core.store import MarketDataStore
from interfaces.views import equity_curve
from tools.risk.portfolio import holdings


def _use(name: str, used: float, limit: float, unit: str) -> dict[str, Any]:
    return {
        "name": name,
        "used": round(used, 6),
        "limit": limit,
        "use": round(used / limit, 6) if limit > 0 else None,
        "unit": unit,
    }


def exposure(desk: Desk) -> list[dict[str, Any]]:
    values, _ = holdings(desk.gateway.positions(), MarketDataStore(desk.store))
    held = desk.gateway.holdings()
    equity = float(desk.gateway.equity)
    return [
        {
            "instrument": key,
            "asset": key.split(":", 1)[1].split("/")[0],
            "quantity": held.get(key, 0.0),
            "value": round(value, 2),
            "share": round(value / equity, 6) if equity > 0 else None,
        }
        for key, value in sorted(values.items(), key=lambda kv: -abs(kv[1]))
    ]


def drawdown_and_daily_loss(desk: Desk) -> tuple[float, float]:
    """The fall from the equity peak (a fraction, >= 0) and today's loss in cash (>= 0)."""
    curve = equity_curve(desk)
    equity = float(desk.gateway.equity)
    peak = max([float(desk.limits.starting_cash), equity, *(p["equity"] for p in curve)])
    today = pd.Timestamp(desk.now).floor("D")
    before = [p["equity"] for p in curve if pd.Timestamp(p["ts"]) < today]
    start_of_day = before[-1] if before else float(desk.limits.starting_cash)
    return (1 - equity / peak if peak > 0 else 0.0), max(0.0, start_of_day - equity)


def limits_use(desk: Desk) -> list[dict[str, Any]]:
    limits = desk.gateway.limits
    values, _ = holdings(positions := desk.gateway.positions(), MarketDataStore(desk.store))
    drawdown, daily_loss = drawdown_and_daily_loss(desk)
    gross = sum(abs(v) for v in values.values())
    out = [
        _use("gross exposure", gross, limits.max_gross_exposure, "USD"),
        _use("net exposure", abs(sum(values.values())), limits.max_net_exposure, "USD"),
        _use("drawdown", drawdown, limits.max_drawdown, "fraction"),
        _use("daily loss", daily_loss, limits.daily_loss_limit, "USD"),
    ]
    caps = {i.id: i.max_position for i in limits.instruments}
    held = desk.gateway.holdings()
    for key, quantity in sorted(held.items()):
        if quantity and key in caps:
            out.append(_use(f"position {key}", abs(quantity), caps[key], "units"))
    per_strategy: dict[str, float] = {}
    for p in positions:
        key = f"{p.venue_id}:{p.symbol}"
        # Valued at the last close, as the risk view values the instrument.
        price = values[key] / held[key] if key in values and held.get(key) else p.average_price
        per_strategy[p.strategy_id] = per_strategy.get(p.strategy_id, 0.0) + abs(p.quantity * price)
    caps_by_strategy = {s.strategy_id: s.max_position_notional for s in desk.gateway.strategies()}
    for strategy, notional in sorted(per_strategy.items()):
        if notional and strategy in caps_by_strategy:
            out.append(_use(f"strategy {strategy}", notional, caps_by_strategy[strategy], "USD"))
    return out
