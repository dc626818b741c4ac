"""The real-time risk service: keeps exposure, PnL and drawdown current from the fills on the
bus and orders execution to act — reduce on a gross-exposure breach, the kill switch on a
drawdown breach. Its heartbeats are what execution's dead-man switch listens for."""

from __future__ import annotations

import logging
import threading

from agents.services.runtime import Service
from core.bus import Alert, Bus, BusMessage, FillEvent, Keys, RiskCommand
from core.settings import Settings
from core.telemetry import GROSS_EXPOSURE
from gateway import load_limits
from gateway.limits import DEFAULT_LIMITS

log = logging.getLogger(__name__)


class RiskService(Service):
    name = "risk"

    def __init__(self, settings: Settings, bus: Bus) -> None:
        super().__init__(settings, bus)
        limits = load_limits(settings.limits_path or DEFAULT_LIMITS)
        self.max_gross = limits.max_gross_exposure
        self.max_drawdown = limits.max_drawdown
        self.positions: dict[str, tuple[float, float]] = {}
        self.peak_equity = 0.0
        self.halted = False
        self.lock = threading.Lock()
        bus.subscribe(Keys.ALL_FILLS, self._fill)
        bus.subscribe(Keys.ALL_ALERTS, self._alert)

    def _alert(self, message: BusMessage, key: str) -> None:
        """A human rearmed the gate: drawdown counts afresh from here."""
        if isinstance(message, Alert) and message.text.startswith("gate active: rearmed"):
            with self.lock:
                self.halted = False
                self.peak_equity = 0.0

    @property
    def gross(self) -> float:
        return sum(abs(q) * p for q, p in self.positions.values())

    def _fill(self, message: BusMessage, key: str) -> None:
        if not isinstance(message, FillEvent):
            return
        with self.lock:
            self.positions[message.instrument] = (message.position_after, message.price)
            gross = self.gross
            self.peak_equity = max(self.peak_equity, message.equity)
            drawdown = 1 - message.equity / self.peak_equity if self.peak_equity > 0 else 0.0
        GROSS_EXPOSURE.set(gross)
        if drawdown >= self.max_drawdown and not self.halted:
            self.halted = True
            self.command("kill_switch", f"drawdown {drawdown:.1%} >= {self.max_drawdown:.0%}",
                         message.trace_id)  # fmt: skip
        elif gross > self.settings.risk_breach_fraction * self.max_gross:
            self.command(
                "reduce", f"gross exposure {gross:,.0f} > {self.settings.risk_breach_fraction:.0%}"
                f" of {self.max_gross:,.0f}", message.trace_id,
            )  # fmt: skip

    def command(self, action: str, reason: str, trace_id: str) -> None:
        log.warning("risk: %s (%s)", action, reason)
        self.bus.publish(
            Keys.RISK_COMMANDS,
            RiskCommand.model_validate({"action": action, "reason": reason, "trace_id": trace_id}),
        )
