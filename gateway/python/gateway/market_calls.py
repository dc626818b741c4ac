"""What the gate hears from markets and venues: bars, trades, reference prices, the clock,
an external venue's reports and fills."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from core.models.market import Bar, Trade
from gateway.face import EngineFace, _writes, instrument_id
from gateway.recorder import to_ms


class MarketCalls(EngineFace):
    @_writes
    def on_bar(self, bar: Bar) -> None:
        interval_ms = int(bar.interval.duration.total_seconds() * 1000)
        try:
            self._engine.on_bar(
                instrument_id(bar.venue_id, bar.symbol),
                to_ms(bar.ts),
                interval_ms,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
            )
        finally:
            self._collect()
        self.fanout.bar(bar)

    @_writes
    def on_trade(self, trade: Trade) -> None:
        try:
            self._engine.on_trade(
                instrument_id(trade.venue_id, trade.symbol),
                to_ms(trade.ts),
                trade.price,
                trade.quantity,
            )
        finally:
            self._collect()

    @_writes
    def set_reference(
        self, venue_id: str, symbol: str, price: float, *, at: datetime | None = None
    ) -> None:
        self._engine.set_reference(instrument_id(venue_id, symbol), price, self._now(at))
        self._collect()

    def set_venue_up(self, venue_id: str, symbol: str, up: bool) -> None:
        self._engine.set_venue_up(instrument_id(venue_id, symbol), up)

    @_writes
    def advance(self, at: datetime | None = None) -> None:
        self._engine.advance(self._now(at))
        self._collect()

    @_writes
    def venue_report(self, order_id: UUID, kind: str, *, at: datetime | None = None) -> str:
        try:
            return self._engine.venue_report(str(order_id), kind, self._now(at))
        finally:
            self._collect()

    @_writes
    def venue_fill(
        self,
        order_id: UUID,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        maker: bool = False,
        at: datetime | None = None,
    ) -> None:
        try:
            self._engine.venue_fill(str(order_id), quantity, price, fee, maker, self._now(at))
        finally:
            self._collect()
