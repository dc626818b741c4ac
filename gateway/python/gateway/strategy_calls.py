"""The strategies the gate trades under, each with its own id and a risk class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models.trading import TradingState
from gateway.face import EngineFace, _writes


@dataclass(frozen=True)
class GateStrategy:
    """A strategy the gate trades under: its own id, the risk class whose limit it has, and
    its trading state."""

    strategy_id: str
    risk_class: str
    max_position_notional: float
    state: TradingState


class StrategyCalls(EngineFace):
    @_writes
    def add_strategy(
        self, strategy_id: str, risk_class: str, *, at: datetime | None = None
    ) -> None:
        """Trade `strategy_id` under its own id from now on, with the position limit of
        `risk_class` (a `[[strategies]]` entry of the limits) and a trading state of its own,
        ACTIVE. GatewayError STRATEGY_EXISTS for an id the gate already has, RISK_CLASS_UNKNOWN
        for a class the limits do not list. Recorded (`gate.strategy_added`)."""
        try:
            self._engine.add_strategy(strategy_id, risk_class, self._now(at))
        finally:
            self._collect()

    def has_strategy(self, strategy_id: str) -> bool:
        return self._engine.strategy_index(strategy_id) is not None

    def strategies(self) -> list[GateStrategy]:
        """Every strategy the gate trades under: the limits' risk classes first, then those
        added, in the order they were."""
        return [
            GateStrategy(sid, cls, limit, TradingState(state))
            for sid, cls, limit, state in self._engine.strategies()
        ]
