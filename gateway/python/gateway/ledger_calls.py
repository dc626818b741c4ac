"""The ledger as the desk reads it: positions, holdings, fees, the account, equity."""

from __future__ import annotations

from datetime import datetime

from core.models.trading import Account, Position
from gateway.state_calls import StateCalls


class LedgerCalls(StateCalls):
    """(A subclass of the state calls: the account carries its trading state.)"""

    def positions(self, *, at: datetime | None = None) -> list[Position]:
        as_of = at if at is not None else self.clock()
        out = []
        for strategy, inst, qty, avg, realized, _fees, mark in self._engine.positions():
            venue_id, symbol = inst.split(":", 1)
            out.append(
                Position(
                    account_id=self.limits.account_id,
                    strategy_id=strategy,
                    venue_id=venue_id,
                    symbol=symbol,
                    quantity=qty,
                    average_price=avg,
                    realized_pnl=realized,
                    unrealized_pnl=(mark - avg) * qty if mark is not None else 0.0,
                    as_of=as_of,
                )
            )
        return out

    def holdings(self) -> dict[str, float]:
        """The account's quantity per instrument ("venue:symbol"), summed over strategies."""
        out: dict[str, float] = {}
        for _strategy, inst, qty, *_rest in self._engine.positions():
            out[inst] = out.get(inst, 0.0) + qty
        return out

    def fees(self) -> float:
        return sum(p[5] for p in self._engine.positions())

    def account(self) -> Account:
        return Account(
            account_id=self.limits.account_id,
            cash=self._engine.cash,
            trading_state=self.trading_state,
            starting_equity=self.limits.starting_cash or None,
        )

    @property
    def equity(self) -> float:
        return self._engine.equity
