"""The desk's resources for one process: settings, the store, the gateway on the paper
venue, the research tools, and the desk clock. Agents act only through these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from core.models.market import Bar, Interval
from core.settings import Settings
from core.store import MarketDataStore, Store
from gateway import GateLimits, Gateway, load_limits
from gateway.limits import DEFAULT_LIMITS
from tools.research.agent_tools import ResearchTools


@dataclass(frozen=True)
class ApprovalPolicy:
    """How long an approval request stays open, and above what notional two distinct
    humans must approve."""

    ttl: timedelta = timedelta(minutes=15)
    dual_notional: float = 200_000.0


@dataclass
class Desk:
    settings: Settings
    store: Store
    limits: GateLimits
    gateway: Gateway
    research: ResearchTools
    now: datetime
    symbols: dict[str, tuple[str, str]]
    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)

    @classmethod
    def open(cls, settings: Settings, store: Store, policy: ApprovalPolicy | None = None) -> Desk:
        """Build the desk on `store`; the paper venue is primed with each instrument's last
        stored daily bars, and the desk clock starts just after the latest of them (the
        bundled data is historical, so the desk runs on market time, not the wall clock)."""
        limits = load_limits(settings.limits_path or DEFAULT_LIMITS)
        market = MarketDataStore(store)
        recent: dict[str, pd.DataFrame] = {}
        for inst in limits.instruments:
            venue, symbol = inst.id.split(":", 1)
            frame = market.read_bars(venue, symbol, "1d")
            if not frame.empty:
                recent[inst.id] = frame.tail(5)
        ends = [pd.Timestamp(f["ts"].iloc[-1]).to_pydatetime() for f in recent.values()]
        now = (max(ends) if ends else datetime.now().astimezone()) + timedelta(days=1)
        desk = cls(
            settings=settings,
            store=store,
            limits=limits,
            gateway=Gateway(limits, store=store, clock=lambda: desk.now, actor="execution"),
            research=ResearchTools(store, settings),
            now=now,
            symbols={
                i.id.split(":", 1)[1].split("/")[0].upper(): tuple(i.id.split(":", 1))  # type: ignore[misc]
                for i in limits.instruments
            },
            policy=policy or ApprovalPolicy(),
        )
        for inst_id, frame in recent.items():
            venue, symbol = inst_id.split(":", 1)
            for row in frame.to_dict("records"):
                desk.gateway.on_bar(
                    Bar(
                        venue_id=venue,
                        symbol=symbol,
                        interval=Interval.D1,
                        ts=pd.Timestamp(row["ts"]).to_pydatetime(),
                        open=row["open"],
                        high=row["high"],
                        low=row["low"],
                        close=row["close"],
                        volume=row["volume"],
                    )
                )
        return desk

    def instrument(self, symbol: str | None) -> tuple[str, str] | None:
        """(venue, symbol) for a desk alias like BTC or GOOG; None if the desk has no such."""
        if symbol is None:
            return None
        key = symbol.upper().split("/")[0]
        return self.symbols.get(key)

    def reference_price(self, venue: str, symbol: str) -> float | None:
        frame = MarketDataStore(self.store).read_bars(venue, symbol, "1d")
        return None if frame.empty else float(frame["close"].iloc[-1])

    def close(self) -> None:
        self.gateway.close()
