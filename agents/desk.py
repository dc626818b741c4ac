"""The desk's resources for one process: settings, the store, the gateway on the paper
venue, the research tools, and the desk clock. Agents act only through these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from core.models.market import Bar, Interval
from core.settings import Settings
from core.store import MarketDataStore, Store
from core.store.lifecycle_log import LifecycleLog
from gateway import GateLimits, Gateway, load_limits
from gateway.journal import SafetyJournal
from gateway.limits import DEFAULT_LIMITS
from tools.instruments import Instrument, InstrumentBook, NoInstrument
from tools.lifecycle import LifecycleError, risk_class
from tools.research.agent_tools import ResearchTools

if TYPE_CHECKING:
    from tools.custody.fireblocks_vault import FireblocksVault
    from tools.knowledge_tools import KnowledgeTools


@dataclass
class Desk:
    settings: Settings
    store: Store
    limits: GateLimits
    gateway: Gateway
    research: ResearchTools
    now: datetime
    book: InstrumentBook
    """The instruments the gate limits name, and how a request's symbol resolves to one."""
    _knowledge: KnowledgeTools | None = None
    _custody: tuple[FireblocksVault | None] | None = None

    @classmethod
    def open(cls, settings: Settings, store: Store) -> Desk:
        limits = load_limits(settings.limits_path or DEFAULT_LIMITS)
        desk = cls(
            settings=settings,
            store=store,
            limits=limits,
            gateway=Gateway(
                limits,
                store=store,
                clock=lambda: desk.now,
                actor="execution",
                journal=SafetyJournal(settings.data_dir / "safety.sqlite"),
            ),
            research=ResearchTools(store, settings),
            now=datetime.now(UTC),
            book=InstrumentBook.of(i.id for i in limits.instruments),
        )
        desk.restore()
        desk.prime()
        return desk

    def restore(self) -> None:
        """Take up where the last run stopped, before anything else: the strategies the
        lifecycle put on the gate (so their fills and halts come back under their own ids),
        positions from the booked fills, the orders that reached a venue (never sent twice),
        and the trading states (a halt stays until a human re-arms). Recorded in the audit
        log."""
        unregistered = self.register_strategies()
        report = self.gateway.restore()
        if (
            report.fills
            or report.skipped
            or report.orders
            or report.states
            or report.reconciled
            or unregistered
        ):
            payload = {**report.payload(), "unregistered": unregistered}
            self.gateway.record("gateway.restored", payload, actor="desk")

    def trade_under(self, strategy_id: str, risk_class: str) -> None:
        """Have the gate trade `strategy_id` under its own id with `risk_class`'s limits,
        unless it already does."""
        if not self.gateway.has_strategy(strategy_id):
            self.gateway.add_strategy(strategy_id, risk_class, at=self.now)

    def register_strategies(self) -> list[str]:
        """Register with the gate every strategy that passed risk review (on paper or live,
        waiting on its first order's approval, or demoted and maybe still holding), each
        under its risk class from the limits. Returns why any could not be (its kind is in
        no class now): its fills are then skipped by the restore, and say so."""
        refused = []
        for strategy in LifecycleLog(self.store).reviewed():
            spec = strategy.proposed.get("strategy")
            try:
                if not isinstance(spec, dict):
                    raise LifecycleError("its proposal holds no strategy spec")
                self.trade_under(strategy.strategy_key, risk_class(self.limits, spec))
            except LifecycleError as exc:
                refused.append(f"{strategy.strategy_key}: {exc}")
        return refused

    def prime(self) -> None:
        """Feed the paper venue each instrument's last stored daily bars and move the desk
        clock to just after the latest of them: the bundled data is historical, so the desk
        runs on market time, not the wall clock. Called again after new data arrives."""
        market = MarketDataStore(self.store)
        recent: dict[tuple[str, str], pd.DataFrame] = {}
        for inst in self.limits.instruments:
            venue, symbol = inst.id.split(":", 1)
            frame = market.read_bars(venue, symbol, "1d")
            if not frame.empty:
                recent[(venue, symbol)] = frame.tail(5)
        if not recent:
            return
        self.now = max(
            pd.Timestamp(f["ts"].iloc[-1]).to_pydatetime() for f in recent.values()
        ) + timedelta(days=1)
        for (venue, symbol), frame in recent.items():
            for row in frame.to_dict("records"):
                self.gateway.on_bar(
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

    def resolve(self, symbol: str) -> Instrument | NoInstrument:
        """The instrument `symbol` names (BTC, BTC/USD, bitstamp:BTC/USD), or why none: a
        symbol the desk does not hold is never mapped to another (tools/instruments.py)."""
        return self.book.resolve(symbol)

    def reference_price(self, venue: str, symbol: str) -> float | None:
        frame = MarketDataStore(self.store).read_bars(venue, symbol, "1d")
        return None if frame.empty else float(frame["close"].iloc[-1])

    @property
    def knowledge(self) -> KnowledgeTools:
        """The knowledge graph and memory; each connects on first use, and raises a clear
        error (GraphUnavailableError, MemoryUnavailableError) when it cannot."""
        if self._knowledge is None:
            # Neo4j, Qdrant and the embedder load on first use: a trade never waits for them.
            from tools.knowledge_tools import KnowledgeTools

            self._knowledge = KnowledgeTools(self.settings, self.store)
        return self._knowledge

    @property
    def custody(self) -> FireblocksVault | None:
        """The Fireblocks vault, when configured (the SDK loads on first use)."""
        if self._custody is None:
            from tools.custody.fireblocks_vault import FireblocksVault

            self._custody = (FireblocksVault.from_settings(self.settings),)
        return self._custody[0]

    def close(self) -> None:
        self.gateway.close()
        if self.gateway.journal is not None:
            self.gateway.journal.close()
        if self._knowledge is not None:
            self._knowledge.close()
