"""The real-time risk service: keeps exposure, PnL per strategy and drawdown current from the
fills on the bus, marks positions to the bars on desk/md, and measures each instrument's
realised volatility from the daily closes (streamed on desk/md, reconciled with a periodic
snapshot from execution). It orders execution to act: reduce on a gross-exposure or
volatility breach, halt a strategy whose loss passes its limit, the kill switch on a drawdown
breach. Its heartbeats are what execution's dead-man switch listens for."""

from __future__ import annotations

import logging
import threading
import time
from uuid import uuid4

import pandas as pd

from agents.services.runtime import Service
from core.bus import (
    Bus,
    BusError,
    BusMessage,
    Control,
    FillEvent,
    Keys,
    MarketBar,
    RiskCommand,
    StateChange,
)
from core.settings import Settings
from core.telemetry import GROSS_EXPOSURE
from gateway import load_limits
from gateway.limits import DEFAULT_LIMITS
from tools.risk import (
    ExposureBreach,
    dollar_volatility,
    exposure_breach,
    gross_exposure,
    realised_volatility,
)

log = logging.getLogger(__name__)
CLOSES_KEPT = 60


def daily_closes(closes: dict[int, float]) -> pd.Series:
    """An instrument's closes keyed by ms stamps, as a series on UTC time."""
    return pd.Series(list(closes.values()), index=pd.to_datetime(list(closes), unit="ms", utc=True))


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
        # Per strategy: cash flow of its fills and its position per instrument, marked at the
        # latest fill price (the second half of `positions`).
        self.strategy_cash: dict[str, float] = {}
        self.strategy_held: dict[tuple[str, str], float] = {}
        self.halted_strategies: set[str] = set()
        self.volatility: dict[str, float] = {}
        # Per instrument: the last CLOSES_KEPT daily closes by ms stamp, and the latest bar's
        # stamp (an older bar arriving late never moves the mark back).
        self.closes: dict[str, dict[int, float]] = {}
        self.latest_bar: dict[str, int] = {}
        self._next_marks = 0.0
        self._vol_cooldown_until = 0.0
        # After a reduce on gross exposure: time for execution's orders to fill before the
        # book, marked anew, is judged again (one command, not one per bar or fill).
        self._gross_cooldown_until = 0.0
        self.lock = threading.Lock()
        bus.subscribe(Keys.ALL_FILLS, self._fill)
        bus.subscribe(Keys.ALL_MARKET_DATA, self._bar)
        bus.subscribe(Keys.health("execution"), self._state)

    def _state(self, message: BusMessage, key: str) -> None:
        """A human rearmed the gate: drawdown counts afresh from here."""
        if (
            isinstance(message, StateChange)
            and message.scope == "account"
            and message.state == "active"
            and message.actor.startswith("human:")
        ):
            with self.lock:
                self.halted = False
                self.peak_equity = 0.0

    @property
    def values(self) -> dict[str, float]:
        """Each instrument's position at its latest mark."""
        return {inst: q * p for inst, (q, p) in self.positions.items()}

    @property
    def gross(self) -> float:
        return gross_exposure(self.values.values())

    def dollar_volatility(self) -> float:
        """Annualised (tools.risk.dollar_volatility)."""
        return dollar_volatility(self.values, self.volatility)

    def _add_closes(self, instrument: str, rows: list[tuple[int, float]]) -> None:
        """Merge daily closes into the instrument's window and re-measure it (lock held)."""
        series = self.closes.setdefault(instrument, {})
        series.update(rows)
        for stamp in sorted(series)[:-CLOSES_KEPT]:
            del series[stamp]
        vol = realised_volatility(daily_closes(series))
        if vol is not None:
            self.volatility[instrument] = vol

    def refresh_marks(self) -> None:
        """The snapshot: execution's last daily closes per instrument, which covers bars
        published before this service subscribed, or dropped under congestion."""
        answer = self.bus.request(Keys.rpc("execution", "control"), Control(action="marks"), 5)
        for inst, rows in answer.body.items():
            pairs = [(int(t), float(c)) for t, c in rows]  # type: ignore[attr-defined]
            with self.lock:
                self._add_closes(inst, pairs)

    def _bar(self, message: BusMessage, key: str) -> None:
        if not isinstance(message, MarketBar):
            return
        stamp = int(message.bar_ts.timestamp() * 1000)
        inst = message.instrument
        with self.lock:
            if message.interval == "1d":
                self._add_closes(inst, [(stamp, message.close)])
            if stamp >= self.latest_bar.get(inst, stamp):
                self.latest_bar[inst] = stamp
                if inst in self.positions:
                    self.positions[inst] = (self.positions[inst][0], message.close)
            gross = self.gross
        GROSS_EXPOSURE.set(gross)

    def tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_marks:
            self._next_marks = now + self.settings.risk_marks_poll_s
            try:
                self.refresh_marks()
            except BusError as exc:
                log.info("risk: no marks from execution yet: %s", exc)
        self.judge_marks(now)
        with self.lock:
            dollar_vol = self.dollar_volatility()
        limit = self.settings.risk_max_dollar_volatility
        if dollar_vol > limit and now >= self._vol_cooldown_until and not self.halted:
            # One command, then time for execution to act and the next fill to arrive.
            self._vol_cooldown_until = now + 2.0
            self.command(
                "reduce", f"dollar volatility {dollar_vol:,.0f} > {limit:,.0f} a year", uuid4().hex
            )

    def judge_marks(self, now: float) -> None:
        """The book at its latest marks, not only at its fills: a rally on the streamed bars
        can take gross exposure past its limit, a fall a strategy past its loss limit."""
        limit = self.settings.risk_strategy_loss_limit
        with self.lock:
            if self.halted:
                return
            gross = self.gross
            losses = {
                s: -self.strategy_pnl(s)
                for s in self.strategy_cash
                if s not in self.halted_strategies
            }
            losing = {s: loss for s, loss in losses.items() if loss > limit}
            self.halted_strategies.update(losing)
        for strategy, loss in losing.items():
            self.command("halt_strategy", f"strategy {strategy} lost {loss:,.2f} > {limit:,.0f} "
                         "at the latest marks", uuid4().hex, strategy_id=strategy)  # fmt: skip
        breach = self.breach(gross)
        if breach.breached:
            self.reduce(now, f"{breach.reason} at the latest marks", uuid4().hex)

    def reduce(self, now: float, reason: str, trace_id: str, *, on_fill: bool = False) -> None:
        """Order a reduce on gross exposure. A fill in breach always orders one (each fill is
        new exposure); the marks' judgement waits out the cooldown after any reduce, so a
        reduce whose orders are still filling is not ordered twice."""
        with self.lock:
            if now < self._gross_cooldown_until and not on_fill:
                return
            self._gross_cooldown_until = now + 2.0
        self.command("reduce", reason, trace_id)

    def breach(self, gross: float) -> ExposureBreach:
        return exposure_breach(gross, self.max_gross, self.settings.risk_breach_fraction)

    def strategy_pnl(self, strategy: str) -> float:
        held = sum(
            q * self.positions[inst][1]
            for (s, inst), q in self.strategy_held.items()
            if s == strategy
        )
        return self.strategy_cash.get(strategy, 0.0) + held

    def _fill(self, message: BusMessage, key: str) -> None:
        if not isinstance(message, FillEvent):
            return
        signed = message.quantity if message.side == "buy" else -message.quantity
        strategy = message.strategy_id
        with self.lock:
            self.positions[message.instrument] = (message.position_after, message.price)
            self.strategy_cash[strategy] = (
                self.strategy_cash.get(strategy, 0.0) - signed * message.price - message.fee
            )
            where = (strategy, message.instrument)
            self.strategy_held[where] = self.strategy_held.get(where, 0.0) + signed
            loss = -self.strategy_pnl(strategy)
            halt_strategy = (
                loss > self.settings.risk_strategy_loss_limit
                and strategy not in self.halted_strategies
            )
            if halt_strategy:
                self.halted_strategies.add(strategy)
            gross = self.gross
            self.peak_equity = max(self.peak_equity, message.equity)
            drawdown = 1 - message.equity / self.peak_equity if self.peak_equity > 0 else 0.0
        GROSS_EXPOSURE.set(gross)
        if drawdown >= self.max_drawdown and not self.halted:
            self.halted = True
            self.command("kill_switch", f"drawdown {drawdown:.1%} >= {self.max_drawdown:.0%}",
                         message.trace_id)  # fmt: skip
        elif halt_strategy:
            self.command(
                "halt_strategy",
                f"strategy {strategy} lost {loss:,.2f} > "
                f"{self.settings.risk_strategy_loss_limit:,.0f}",
                message.trace_id, strategy_id=strategy,
            )  # fmt: skip
        elif (breach := self.breach(gross)).breached:
            self.reduce(time.monotonic(), breach.reason, message.trace_id, on_fill=True)

    def command(
        self, action: str, reason: str, trace_id: str, strategy_id: str | None = None
    ) -> None:
        log.warning("risk: %s (%s)", action, reason)
        self.bus.publish(
            Keys.RISK_COMMANDS,
            RiskCommand.model_validate(
                {"action": action, "reason": reason, "trace_id": trace_id,
                 "strategy_id": strategy_id}
            ),
        )  # fmt: skip
