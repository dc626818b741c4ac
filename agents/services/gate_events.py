"""What the gate does, put on the bus: every decision, fill and trading-state move the engine
emits, and every bar it trades against (desk/md/{venue}/{symbol}), whoever caused it (an order
over the bus, the PM graph's execution agent, a risk reduce, a resting order filled by a new
bar, a human rearm). Listening to the engine rather than to each caller is what keeps risk's
view whole: no path can trade without risk hearing.

Runs inside the gateway's calls, on the thread that called it, holding the desk's lock;
publishing never waits on a Zenoh callback, so it cannot deadlock the bus."""

from __future__ import annotations

import logging
from typing import Any

from core.bus import Alert, Bus, FillEvent, Keys, MarketBar, OrderEvent, StateChange
from core.models.market import Bar
from core.models.trading import TradingState
from core.telemetry import DENIALS, FILLS, ORDERS, TRADING_STATE
from gateway import Gateway

log = logging.getLogger(__name__)
STATE_CODE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def state_text(scope: str, state: str, actor: str, reason: str) -> str:
    """The alert people read. Account moves start "gate <state>", which sinks and dashboards
    match on."""
    if scope.startswith("strategy:"):
        return f"strategy {scope.split(':', 1)[1]} {state}: {reason}"
    if state == "active" and actor.startswith("human:"):
        return f"gate active: rearmed by {actor}: {reason}"
    return f"gate {state}: {reason}"


class GateEventPublisher:
    """`told_by_rust`: the gate's fast path publishes its decisions and fills itself
    (gateway.fast_path); here they are only counted."""

    def __init__(
        self, bus: Bus, gateway: Gateway, source: str = "execution", *, told_by_rust: bool = False
    ) -> None:
        self.bus = bus
        self.gateway = gateway
        self.source = source
        self.told_by_rust = told_by_rust

    def __call__(self, events: list[dict[str, Any]]) -> None:
        after = {} if self.told_by_rust else self._positions_after(events)
        for n, event in enumerate(events):
            kind = event.get("kind")
            if kind == "gate.decision" and event.get("action") == "submit":
                ORDERS.labels(event["verdict"]).inc()
                for reason in event["reason_codes"]:
                    DENIALS.labels(reason).inc()
                if not self.told_by_rust:
                    self._decision(event)
            elif kind == "order.fill":
                FILLS.labels(event["strategy_id"]).inc()
                if not self.told_by_rust:
                    self._fill(event, after[n])
            elif kind == "gate.trading_state":
                self._state(event)

    def _positions_after(self, events: list[dict[str, Any]]) -> dict[int, float]:
        """Each fill's instrument position right after it: the gate's holdings now, less the
        batch's later fills (one bar can fill an order several times in one call, and each
        event must say where that fill left the position, not where the batch did)."""
        fills = [(n, e) for n, e in enumerate(events) if e.get("kind") == "order.fill"]
        if not fills:
            return {}
        held = self.gateway.holdings()
        running: dict[str, float] = {}
        out: dict[int, float] = {}
        for n, event in reversed(fills):
            instrument = event["instrument_id"]
            position = running.get(instrument, held.get(instrument, 0.0))
            out[n] = position
            signed = event["quantity"] if event["side"] == "buy" else -event["quantity"]
            running[instrument] = position - signed
        return out

    def bar(self, bar: Bar) -> None:
        """Market data is latest-value: under congestion a bar may be dropped rather than
        hold up orders (risk's periodic snapshot of closes fills any gap)."""
        self.bus.publish(
            Keys.market_data(bar.venue_id, bar.symbol),
            MarketBar(instrument=f"{bar.venue_id}:{bar.symbol}", interval=bar.interval.value,
                      bar_ts=bar.ts, open=bar.open, high=bar.high, low=bar.low, close=bar.close,
                      volume=bar.volume),
            block=False,
        )  # fmt: skip

    def _decision(self, event: dict[str, Any]) -> None:
        order = self.gateway.order(event["order_id"])
        if order is None:
            log.warning("gate decision for an order the gateway no longer knows: %s", event)
            return
        self.bus.publish(
            Keys.orders(order.strategy_id),
            OrderEvent(order_id=str(order.order_id), strategy_id=order.strategy_id,
                       instrument=f"{order.venue_id}:{order.symbol}", side=order.side.value,
                       quantity=order.quantity, verdict=event["verdict"],
                       reasons=list(event["reason_codes"])),
        )  # fmt: skip

    def _fill(self, event: dict[str, Any], position_after: float) -> None:
        instrument = event["instrument_id"]
        strategy = event["strategy_id"]
        self.bus.publish(
            Keys.fills(strategy),
            FillEvent(order_id=event["order_id"], strategy_id=strategy, instrument=instrument,
                      side=event["side"], quantity=event["quantity"], price=event["price"],
                      fee=event["fee"],
                      position_after=position_after,
                      equity=self.gateway.equity),
        )  # fmt: skip

    def _state(self, event: dict[str, Any]) -> None:
        raw_scope, state = str(event["scope"]), str(event["state"])
        actor, reason = str(event["actor"]), str(event["reason"]) or "no reason given"
        account = raw_scope.startswith("account:")
        scope = "account" if account else raw_scope
        if account:
            TRADING_STATE.set(STATE_CODE[TradingState(state)])
        if event.get("announced"):
            # The fast path told the bus when it put the move in force (gateway.fast_path).
            return
        severity = "info" if state == "active" else "critical" if account else "warning"
        text = state_text(scope, state, actor, reason)[:2000]
        self.bus.publish(
            Keys.alerts(severity),
            Alert.model_validate({"severity": severity, "source": self.source, "text": text}),
        )
        change = {"scope": scope[:80], "state": state, "actor": actor[:64], "reason": reason[:500]}
        self.bus.publish(Keys.health(self.source), StateChange.model_validate(change))
