"""Monitor: health of the desk's parts, data freshness, gateway state."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Command

from agents.desk import Desk
from agents.results import Health
from agents.state import DeskState, Node, finish
from core.store import MarketDataStore

NAME = "monitor"
STALE_AFTER_DAYS = 3.0


def health(desk: Desk) -> Health:
    series = MarketDataStore(desk.store).series()
    freshness = {
        f"{s.venue}:{s.symbol}:{s.interval}": round((desk.now - s.last).total_seconds() / 86_400, 2)
        for s in series
    }
    traded = {i.id for i in desk.limits.instruments}
    stale = sorted(
        k
        for k, age in freshness.items()
        if age > STALE_AFTER_DAYS and k.rsplit(":", 1)[0] in traded
    )
    return {
        "store_rows": desk.store.row_counts(),
        "series": len(series),
        "stale_traded_series": stale,
        "gateway_state": desk.gateway.trading_state.value,
        "open_orders": len(desk.gateway.open_orders()),
        "desk_time": desk.now.isoformat(),
        "healthy": not stale and desk.gateway.trading_state.value == "active",
    }


def node(desk: Desk) -> Node:
    def monitor(state: DeskState) -> Command[Literal["report", "__end__"]]:
        out = health(desk)
        goto: Literal["report", "__end__"] = (
            "report" if state.get("intent", {}).get("kind") == "report" else "__end__"
        )
        text = (
            f"{'healthy' if out['healthy'] else 'attention'}: gateway {out['gateway_state']}, "
            f"{out['open_orders']} open orders, {out['series']} series, "
            f"stale traded series: {', '.join(out['stale_traded_series']) or 'none'}"
        )
        return finish(NAME, out, text, goto=goto)

    return monitor
