from typing import Any, Self, final

import numpy as np
from typing_extensions import Buffer

from core.models.trading import Order
from gateway.decisions import GateDecision

_Array = Buffer | np.ndarray[Any, Any]

__all__ = [
    "BusEcho",
    "Engine",
    "FastPathNode",
    "GatewayError",
    "OrderRequest",
    "__version__",
    "bus_ping",
    "is_on_increment",
    "reason_codes",
    "validate_config",
]

__version__: str

class GatewayError(ValueError):
    """A gateway operation was refused; the message starts with its code."""

def is_on_increment(value: float, increment: float) -> bool:
    """Whether `value` is a whole multiple of `increment`, exactly: each float is taken as
    its shortest round-trip decimal (its `repr`), as `Decimal(repr(value)) %
    Decimal(repr(increment)) == 0` would decide.

    Raises ValueError (with a reason code) on NaN/inf, an increment <= 0
    (INCREMENT_NOT_POSITIVE) or one with more than 37 integer digits (INCREMENT_TOO_LARGE).
    """

def reason_codes() -> list[str]:
    """Every reason code; a code's position is its bit in the batch API's masks."""

def validate_config(config_json: str) -> None:
    """Validate a limits config as the engine would; raises ValueError naming the field."""

@final
class OrderRequest:
    """An order as it crosses into the engine: parsed and checked for form once, when made
    (a bad side, type or time in force raises GatewayError BAD_ARGUMENT)."""

    def __new__(
        cls,
        *,
        order_id: str,
        client_order_id: str,
        account_id: str,
        strategy_id: str,
        instrument_id: str,
        side: str,
        order_type: str,
        quantity: float,
        price: float | None = None,
        time_in_force: str = "gtc",
        expire_at_ms: int | None = None,
        reduce_only: bool = False,
    ) -> Self: ...
    @staticmethod
    def of_order(order: Order) -> OrderRequest:
        """The request for a validated order model, read in one call."""
    @property
    def order_id(self) -> str: ...
    @property
    def instrument_id(self) -> str: ...
    @property
    def strategy_id(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def price(self) -> float | None: ...

@final
class Engine:
    """The gateway engine: gate, orders, paper venue (or an external venue's reports), ledger."""

    def __new__(cls, config_json: str, external: bool = False) -> Self: ...
    @property
    def limits_version(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def account_state(self) -> str: ...
    @property
    def cash(self) -> float: ...
    @property
    def equity(self) -> float: ...
    def instrument_index(self, instrument_id: str) -> int | None: ...
    def strategy_index(self, strategy_id: str) -> int | None: ...
    def add_strategy(self, strategy_id: str, risk_class: str, now_ms: int) -> int:
        """Register a strategy under its own id with a risk class's limits; its index."""
    def strategies(self) -> list[tuple[str, str, float, str]]:
        """(strategy id, risk class, max position notional, trading state), by index."""
    def check(self, order: OrderRequest, now_ms: int) -> tuple[str, list[str]]:
        """What the gate would decide; changes nothing."""
    def decide_order(self, order: Order, now_ms: int | None = None) -> GateDecision:
        """`check` for a validated order model, read in place (no `OrderRequest` made) and
        answered as the desk's decision; `now_ms` None reads the wall clock."""
    def submit(
        self, order: OrderRequest, approval_token: str | None, now_ms: int
    ) -> tuple[str, list[str]]: ...
    def check_batch(
        self,
        instrument: _Array,
        strategy: _Array,
        side: _Array,
        order_type: _Array,
        price: _Array,
        quantity: _Array,
        now_ms: int,
    ) -> tuple[bytes, bytes]: ...
    def replay_targets(
        self,
        instrument_id: str,
        strategy_id: str,
        ts_ms: _Array,
        open: _Array,
        high: _Array,
        low: _Array,
        close: _Array,
        volume: _Array,
        weights: _Array,
        interval_ms: int,
        rebalance_band: float = 0.0,
    ) -> dict[str, Any]:
        """Replay bars and target weights through the gate and paper venue; returns
        equity and position per bar (f64 bytes), orders, denied, needs_approval and
        denial_reasons."""
    def modify(
        self, order_id: str, price: float | None, quantity: float | None, now_ms: int
    ) -> tuple[str, list[str]]: ...
    def cancel(self, order_id: str, now_ms: int) -> None: ...
    def approve(self, order_id: str, approvers: list[str], now_ms: int) -> str:
        """A token naming the distinct approvers, living the limits' `approval_ttl_ms`."""
    def approval_need(self, order_id: str, now_ms: int) -> tuple[int, float]:
        """How many distinct approvers the gate requires of a pending order, and the notional
        it values the order at now."""
    def refuse_approval(
        self, order_id: str, approver: str, expired: bool, now_ms: int
    ) -> tuple[str, list[str]]:
        """Deny a pending order: APPROVAL_REFUSED, or APPROVAL_EXPIRED when `expired`."""
    def kill(self, actor: str, reason: str, now_ms: int) -> list[str]: ...
    def rearm(self, actor: str, reason: str, now_ms: int) -> None:
        """`actor` is "kind:name" ("human:alice"); only a named human may rearm. Anyone or
        anything else raises GatewayError REARM_REFUSED and emits a `rearm.refused` event."""
    def set_trading_state(
        self, strategy_id: str | None, state: str, actor: str, reason: str, now_ms: int
    ) -> None: ...
    def strategy_state(self, strategy_id: str) -> str | None: ...
    def set_reference(self, instrument_id: str, price: float, now_ms: int) -> None: ...
    def set_venue_up(self, instrument_id: str, up: bool) -> None: ...
    def on_trade(self, instrument_id: str, ts_ms: int, price: float, size: float) -> None: ...
    def on_bar(
        self,
        instrument_id: str,
        ts_ms: int,
        interval_ms: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> None: ...
    def advance(self, now_ms: int) -> None: ...
    def venue_report(self, order_id: str, kind: str, now_ms: int) -> str: ...
    def venue_fill(
        self, order_id: str, quantity: float, price: float, fee: float, maker: bool, now_ms: int
    ) -> None: ...
    def restore_fill(
        self,
        strategy_id: str,
        instrument_id: str,
        side: str,
        quantity: float,
        price: float,
        fee: float,
    ) -> None: ...
    def restore_order(
        self, order_id: str, client_order_id: str, status: str, filled: float
    ) -> None:
        """Record an order an earlier run booked (only before the first order): afterwards
        `order_status` gives `(status, filled, 0.0)`, the order is closed (no leaves, no
        exposure; a status that was still open is kept as reported but closed too, its venue
        having gone with the old process), and reusing its order id or client order id is
        denied DUPLICATE_CLIENT_ORDER_ID."""
    def order_status(self, order_id: str) -> tuple[str, float, float] | None: ...
    def open_order_ids(self) -> list[str]: ...
    def open_quantities(self, instrument_id: str) -> tuple[float, float]: ...
    def book_depth(self, instrument_id: str) -> tuple[float, float]: ...
    def positions(self) -> list[tuple[str, str, float, float, float, float, float | None]]: ...
    def drain_events(self, trace: str | None = None) -> list[dict[str, Any]]:
        """With a fast path attached, the fills and order decisions since the last drain go out
        on the bus under `trace` (the caller's request; None: each its own)."""

@final
class FastPathNode:
    """The engine's safety fast path on the bus (src/fast_path.rs), running on Rust threads."""

    def __new__(cls, engine: Engine, config_json: str) -> Self: ...
    def wait_moved(self, seen: int, timeout_s: float) -> int:
        """Block (without the GIL) until the latch has moved more than `seen` times, or
        `timeout_s`; returns how many times it has moved."""
    def stats(self) -> list[tuple[str, int]]:
        """received, dropped, own_fills, trips, published, publish_failed, last_in_force_us,
        deadman_armed."""
    def close(self) -> None:
        """Stop; what is queued for the bus goes out first. Closing twice is a no-op."""

@final
class BusEcho:
    """An echo on the bus in Rust, for the latency benchmark."""

    def __new__(cls, endpoints_json: str, ping_key: str, pong_key: str) -> Self: ...
    def close(self) -> None: ...

def bus_ping(
    endpoints_json: str,
    ping_key: str,
    pong_key: str,
    rounds: int,
    warmup: int = 500,
    settle_s: float = 1.5,
) -> list[float]:
    """Round trips timed in Rust (seconds each): heartbeats out on `ping_key`, echoes back."""
