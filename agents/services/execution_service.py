"""The execution service: owns the store and the gateway (paper venue), takes order requests
over the bus, obeys risk's commands, publishes orders, fills and its state, and runs the
dead-man switch. The gate starts REDUCING, "waiting for risk", and turns ACTIVE at risk's
first heartbeat; from then on risk silent for `deadman_reduce_after_s` moves it to REDUCING,
for `deadman_halt_after_s` to HALTED, and only a human (`human:<name>`) rearms it."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any
from uuid import uuid4

import pandas as pd

from agents.data import ingest
from agents.desk import Desk
from agents.monitor import health
from agents.services.gate_events import GateEventPublisher
from agents.services.runtime import Service, open_bus
from agents.services.stream_marks import StreamMarks
from core.bus import (
    Bus,
    BusError,
    BusMessage,
    Control,
    Heartbeat,
    IngestRequest,
    Keys,
    OrderRequest,
    Reply,
    RiskCommand,
)
from core.logs import trace_id_var
from core.models.trading import Order, OrderType, Side, TimeInForce, TradingState
from core.settings import Settings
from core.store import MarketDataStore, Store
from core.telemetry import GATE_LATENCY
from gateway import GateDecision, GatewayError
from gateway.fast_path import BreakerLimits, BusEndpoints, FastPath, FastPathConfig
from tools.instruments import NoInstrument
from tools.orders import reduce_orders

log = logging.getLogger(__name__)


MARK_DAYS = 60


def recent_closes(desk: Desk, days: int) -> dict[str, object]:
    """Each traded instrument's last `days` daily closes, as [[ts_ms, close], ...]."""
    market = MarketDataStore(desk.store)
    out: dict[str, object] = {}
    for inst in desk.limits.instruments:
        venue, symbol = inst.id.split(":", 1)
        frame = market.read_bars(venue, symbol, "1d").tail(days)
        if len(frame):
            stamps = pd.to_datetime(frame["ts"], utc=True).dt.as_unit("ms").astype("int64")
            out[inst.id] = [[int(t), float(c)] for t, c in zip(stamps, frame["close"], strict=True)]
    return out


WAITING = "waiting for the risk service's heartbeats"


def fast_path_config(settings: Settings, desk: Desk, bus: BusEndpoints) -> FastPathConfig:
    limits = BreakerLimits(
        max_drawdown=desk.limits.max_drawdown,
        daily_loss_limit=desk.limits.daily_loss_limit,
        strategy_loss_limit=settings.risk_strategy_loss_limit,
    )
    return FastPathConfig(
        bus=bus, limits=limits, deadman_reduce_after_s=settings.deadman_reduce_after_s,
        deadman_halt_after_s=settings.deadman_halt_after_s,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        realtime_priority=settings.fast_path_priority,
        cpu_wake_latency_us=settings.cpu_wake_latency_us,
    )  # fmt: skip


def open_hub(settings: Settings, desk: Desk) -> tuple[Bus, FastPath | None]:
    """Execution's bus, and the gate's fast path (gateway.fast_path) unless it is off.

    With the fast path, its Rust session is the hub: the Zenoh router on `bus_hub` that every
    service connects to, so a fill or a command reaches the breakers in one hop and nothing
    on that path waits for Python; this service's own Python bus is a client of it. Under
    `bus_mode=client` (a router elsewhere) both are clients of that router."""
    if not settings.fast_path:
        return open_bus(settings, hub=True), None
    connect = [settings.bus_hub, *settings.bus_connect]
    if settings.bus_mode == "client":
        endpoints = BusEndpoints(mode="client", listen=[], connect=connect)
    else:
        endpoints = BusEndpoints(mode="router", listen=[settings.bus_hub],
                                 connect=settings.bus_connect)  # fmt: skip
    try:
        fast = FastPath(desk.gateway, fast_path_config(settings, desk, endpoints))
    except RuntimeError as exc:
        raise BusError(f"the bus could not open (fast path {endpoints.mode}, listen "
                       f"{endpoints.listen}): {exc}") from exc  # fmt: skip
    try:
        return Bus.open("client", connect=connect), fast
    except BusError:
        fast.close()
        raise


def _waiting_for_risk(desk: Desk) -> bool:
    """Whether the account's REDUCING is only an earlier start's wait for risk's first
    heartbeat (the process died before it came), not a reduce anyone ordered."""
    journal = desk.gateway.journal
    account = f"account:{desk.limits.account_id}"
    records = [r for r in journal.states() if r.scope == account] if journal else []
    return bool(records) and records[0].actor == "deadman" and records[0].reason == WAITING


class ExecutionService(Service):
    """Serves the gateway of `desk`. Standalone (`open`) it owns the desk; hosted beside the
    PM graph (`quantdesk serve`) it shares the graph's desk and lock (the gateway's store lock),
    so the graph's orders and risk's commands meet one gateway."""

    name = "execution"

    def __init__(
        self,
        settings: Settings,
        desk: Desk,
        lock: threading.RLock | None = None,
        *,
        owns_desk: bool = False,
    ) -> None:
        # The kill switch, risk's strategy halts, the breakers and the dead-man switch's trips
        # act in Rust (gateway.fast_path); off, the handlers below do them in Python.
        bus, self.fast_path = open_hub(settings, desk)
        super().__init__(settings, bus)
        self.desk = desk
        self.lock = lock or desk.gateway.store_lock
        self.owns_desk = owns_desk
        self.last_risk = 0.0
        self.armed = False
        self._reduces: queue.Queue[RiskCommand] = queue.Queue()
        self._reducing = threading.Thread(
            target=self._reducer, name="execution-reduce", daemon=True
        )
        self._reducing.start()
        if self.fast_path is not None:
            desk.gateway.trace_source = trace_id_var.get
        with self.lock:
            rust = self.fast_path is not None
            publisher = GateEventPublisher(bus, desk.gateway, told_by_rust=rust)
            self._stops = [desk.gateway.listen(publisher), desk.gateway.listen_bars(publisher.bar)]
            # A state restored from before a restart (a halt, risk's reduce) stays until a
            # human re-arms; the dead-man switch holds only an ACTIVE desk, and lifts only
            # its own wait for the first heartbeat.
            self._holding = self.desk.gateway.trading_state is TradingState.ACTIVE or (
                self.desk.gateway.trading_state is TradingState.REDUCING
                and _waiting_for_risk(self.desk)
            )
            if self._holding:
                self.desk.gateway.set_trading_state(TradingState.REDUCING, "deadman", WAITING)
        self.marks = StreamMarks({inst.id for inst in desk.limits.instruments}, desk.gateway.on_bar)
        bus.subscribe(Keys.health("risk"), self._risk_heartbeat)
        bus.subscribe(Keys.RISK_COMMANDS, self._command)
        bus.subscribe(Keys.ALL_MARKET_DATA, self.marks.heard)
        bus.serve(Keys.rpc("execution", "submit"), self._submit)
        bus.serve(Keys.rpc("execution", "control"), self._control)
        bus.serve(Keys.rpc("store", "ingest"), self._ingest)

    @classmethod
    def open(cls, settings: Settings, store: Store) -> ExecutionService:
        return cls(settings, Desk.open(settings, store), owns_desk=True)

    # -- state and the dead-man switch ---------------------------------------------------
    # Every state move reaches the bus through the gate's events (GateEventPublisher): the
    # alert people read, then the typed StateChange the agents act on.
    #
    # Moves that make the desk safer (kill switch, halt, reduce-only) do not take the desk's
    # lock: under `quantdesk serve` a PM turn holds it for seconds, and a halt must not wait
    # for a backtest. They touch only the engine (atomic under the GIL) and the recorder's
    # locked buffers; the gateway's writer thread records them when the lock is free.

    def state(self) -> str:
        return self.desk.gateway.trading_state.value

    def _safer(self, state: TradingState, actor: str, reason: str, strategy: str | None) -> None:
        self.desk.gateway.set_trading_state(state, actor, reason, strategy_id=strategy, wait=False)

    def _set_state(self, state: TradingState, actor: str, reason: str) -> None:
        if state is TradingState.ACTIVE:
            with self.lock:
                self.desk.gateway.set_trading_state(state, actor, reason)
        else:
            self._safer(state, actor, reason, None)
        log.warning("gate %s by %s: %s", state.value, actor, reason)

    def tick(self) -> None:
        self.deadman()
        self.marks.apply(self.lock)

    def _risk_heard(self) -> bool:
        # With the fast path the switch that trips is Rust's, on its own session: Python's
        # bus may hear risk first, and an ACTIVE desk must never be one nobody guards.
        if self.fast_path is not None:
            return self.fast_path.deadman_armed()
        return bool(self.last_risk)

    def deadman(self) -> None:
        if not self.armed:
            if self._risk_heard():
                self.armed = True
                if self._holding:
                    self._set_state(TradingState.ACTIVE, "deadman", "risk heartbeats began")
            return
        if self.fast_path is not None:
            return
        silent = time.monotonic() - self.last_risk
        current = self.desk.gateway.trading_state
        if silent > self.settings.deadman_halt_after_s and current is not TradingState.HALTED:
            self._set_state(TradingState.HALTED, "deadman", f"risk silent {silent:.1f} s")
        elif silent > self.settings.deadman_reduce_after_s and current is TradingState.ACTIVE:
            self._set_state(TradingState.REDUCING, "deadman", f"risk silent {silent:.1f} s")

    def _risk_heartbeat(self, message: BusMessage, key: str) -> None:
        if isinstance(message, Heartbeat):
            self.last_risk = time.monotonic()

    # -- orders ------------------------------------------------------------------------------

    def _send(self, order: Order, requested_by: str) -> dict[str, Any]:
        """Through the gate; the order and its fills reach the bus as the gate's events."""
        with self.lock:
            start = time.perf_counter()
            decision: GateDecision = self.desk.gateway.submit(order)
            GATE_LATENCY.observe(time.perf_counter() - start)
            status = self.desk.gateway.order_status(order.order_id)
        log.info(
            "order %s %s %g %s:%s for %s: %s %s", order.order_id, order.side.value,
            order.quantity, order.venue_id, order.symbol, requested_by, decision.verdict.value,
            ",".join(decision.reason_codes),
        )  # fmt: skip
        return {
            "order_id": str(order.order_id), "verdict": decision.verdict.value,
            "reasons": list(decision.reason_codes), "status": status[0] if status else "not taken",
            "filled": status[1] if status else 0.0, "requested_by": requested_by,
        }  # fmt: skip

    def _submit(self, message: BusMessage) -> Reply:
        if not isinstance(message, OrderRequest):
            return Reply(ok=False, error=f"expected an order_request, got {message.type}")
        found = self.desk.resolve(message.symbol)
        if isinstance(found, NoInstrument):
            return Reply(ok=False, error=found.message)
        venue, symbol = found.venue, found.symbol
        order_id = uuid4()
        order = Order(
            order_id=order_id, client_order_id=f"qd-{order_id.hex[:24]}",
            strategy_id=message.strategy_id, account_id=self.desk.limits.account_id,
            venue_id=venue, symbol=symbol, side=Side(message.side),
            order_type=OrderType.LIMIT if message.limit_price else OrderType.MARKET,
            quantity=message.quantity, limit_price=message.limit_price,
            time_in_force=TimeInForce.GTC if message.limit_price else TimeInForce.IOC,
            created_at=self.desk.now,
        )  # fmt: skip
        return Reply(ok=True, body=self._send(order, message.requested_by))

    def _command(self, message: BusMessage, key: str) -> None:
        if not isinstance(message, RiskCommand):
            log.warning("ignored a %s on %s", message.type, key)
            return
        if self.fast_path is not None and message.action != "reduce":
            return
        if message.action == "kill_switch":
            # The engine is halted, and the bus told, when this returns, whoever holds the
            # desk's lock; the audit record follows when the lock is free.
            self.desk.gateway.kill_switch(message.issued_by, message.reason, wait=False)
        elif message.action == "halt_strategy" and message.strategy_id:
            self._safer(TradingState.HALTED, message.issued_by, message.reason, message.strategy_id)
        elif message.action == "reduce":
            # Reducing sends orders, which needs the desk's lock: on a worker of its own, so a
            # kill switch behind it on this subscription never waits for a PM turn.
            self._reduces.put(message)

    def _reducer(self) -> None:
        while not self.stopping.is_set():
            try:
                message = self._reduces.get(timeout=0.2)
            except queue.Empty:
                continue
            trace_id_var.set(message.trace_id)
            try:
                with self.lock:
                    orders = reduce_orders(
                        self.desk.gateway, self.desk.now, message.fraction, message.trace_id,
                        instrument=message.instrument, strategy_id=message.strategy_id,
                    )  # fmt: skip
                for order in orders:
                    self._send(order, f"risk:{message.trace_id}")
            except Exception:
                log.exception("execution: a reduce failed")

    def _ingest(self, message: BusMessage) -> Reply:
        """This process owns the embedded store, so ingestion for every agent happens here."""
        if not isinstance(message, IngestRequest):
            return Reply(ok=False, error=f"expected an ingest request, got {message.type}")
        try:
            with self.lock:
                loaded = ingest(self.desk, message.datasets)
        except ValueError as exc:
            return Reply(ok=False, error=str(exc))
        return Reply(ok=True, body=dict(loaded))

    def _control(self, message: BusMessage) -> Reply:
        if not isinstance(message, Control):
            return Reply(ok=False, error=f"expected a control, got {message.type}")
        if message.action == "health":
            with self.lock:
                return Reply(ok=True, body=health(self.desk))
        if message.action == "marks":
            with self.lock:
                return Reply(ok=True, body=recent_closes(self.desk, MARK_DAYS))
        if message.action == "rearm":
            # The gate decides who may rearm (a named human) and records a refusal itself.
            try:
                with self.lock:
                    self.desk.gateway.rearm(message.actor, message.reason)
                    self.last_risk = time.monotonic()
            except GatewayError as exc:
                return Reply(ok=False, error=str(exc))
        with self.lock:
            body: dict[str, object] = {
                "state": self.desk.gateway.trading_state.value,
                "positions": self.desk.gateway.holdings(),
                "equity": self.desk.gateway.equity,
            }  # fmt: skip
        if self.fast_path is not None:
            body["fast_path_priority"] = self.fast_path.realtime_priority
            body["cpu_wake_latency_us"] = self.fast_path.cpu_wake_latency_us
        return Reply(ok=True, body=body)

    def close(self) -> None:
        # A reduce in flight finishes (its orders and events go out) before anything closes.
        self.stopping.set()
        self._reducing.join(timeout=30)
        with self.lock:
            for stop in self._stops:
                stop()
        super().close()
        # After the bus: the fast path's session is the hub the bus is a client of.
        if self.fast_path is not None:
            self.fast_path.close()
        if self.owns_desk:
            self.desk.close()
