"""Property tests of the compiled gateway: limits hold for any order, and any sequence of
submits, modifies, cancels and prints keeps the book and the ledger consistent."""

from __future__ import annotations

import math
from itertools import count
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, given, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gateway._core import Engine, OrderRequest
from gateway.limits import GateLimits
from tests.gateway_fixtures import limits_dict

LIMITS = GateLimits.model_validate(
    limits_dict(
        max_gross_exposure=500_000.0,
        approval_notional=1e9,
        dual_approval_notional=1e9,
        max_drawdown=1.0,
        daily_loss_limit=1e9,
        paper={"half_spread_bps": 2.0, "taker_fee_bps": 5.0, "maker_fee_bps": 1.0},
    )
)
CONFIG = LIMITS.to_engine_json()
INSTRUMENTS = {i.id: i for i in LIMITS.instruments}
REFERENCE = {"paper:BTC/USD": 30_000.0, "paper:ETH/USD": 2_000.0}
STRATEGIES = ["momentum", "mean_reversion"]
IDS = count()

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1.0, max_value=1e7),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, 0.001, 0.5, 1.0, 10.0]),
)


def fresh_engine() -> Engine:
    engine = Engine(CONFIG)
    for inst, price in REFERENCE.items():
        engine.on_trade(inst, 0, price, 50.0)
    return engine


def on_grid(value: float, step: float) -> bool:
    steps = value / step
    return math.isfinite(steps) and abs(steps - round(steps)) <= 1e-9 * max(abs(round(steps)), 1)


def worst_case(engine: Engine, inst: str) -> float:
    position = sum(p[2] for p in engine.positions() if p[1] == inst)
    buys, sells = engine.open_quantities(inst)
    return max(abs(position + buys), abs(position - sells))


def gross(engine: Engine, marks: dict[str, float]) -> float:
    return sum(worst_case(engine, inst) * marks[inst] for inst in INSTRUMENTS)


def submit(engine: Engine, now: int, **o: Any) -> tuple[str, list[str], str]:
    order_id = f"o-{next(IDS)}"
    request = OrderRequest(
        order_id=order_id,
        client_order_id=f"c-{order_id}",
        account_id="paper",
        strategy_id=o["strategy"],
        instrument_id=o["inst"],
        side=o["side"],
        order_type=o["type"],
        quantity=o["qty"],
        price=o["price"],
        time_in_force=o.get("tif", "gtc"),
    )
    verdict, codes = engine.submit(request, None, now)
    return verdict, codes, order_id


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inst=st.sampled_from([*INSTRUMENTS, "paper:NOPE/USD"]),
    strategy=st.sampled_from([*STRATEGIES, "ghost"]),
    side=st.sampled_from(["buy", "sell"]),
    type_=st.sampled_from(["limit", "market"]),
    qty=numbers,
    price_factor=st.one_of(numbers, st.floats(min_value=0.9, max_value=1.1)),
)
def test_no_order_that_breaks_a_limit_is_accepted(
    inst: str, strategy: str, side: str, type_: str, qty: float, price_factor: float
):
    engine = fresh_engine()
    known = inst in INSTRUMENTS
    reference = REFERENCE.get(inst, 1.0)
    price = None if type_ == "market" else price_factor * reference
    if price is not None and math.isfinite(price) and known:
        price = round(price / INSTRUMENTS[inst].tick) * INSTRUMENTS[inst].tick
    before = (engine.cash, engine.open_order_ids(), engine.positions())
    verdict, codes, _ = submit(
        engine, 1, inst=inst, strategy=strategy, side=side, type=type_, qty=qty, price=price
    )
    if verdict != "ACCEPT":
        assert codes, "a refusal always says why"
        if verdict == "DENY":
            assert (engine.cash, engine.open_order_ids(), engine.positions()) == before
        return
    assert codes == []
    limits = INSTRUMENTS[inst]
    assert strategy in STRATEGIES
    assert math.isfinite(qty)
    assert qty > 0
    assert on_grid(qty, limits.lot)
    assert limits.min_quantity * (1 - 1e-9) <= qty <= limits.max_quantity * (1 + 1e-9)
    basis = reference if price is None else price
    assert math.isfinite(basis)
    assert basis > 0
    if price is not None:
        assert on_grid(price, limits.tick)
        assert abs(price / reference - 1) * 1e4 <= LIMITS.collar_bps
    notional = qty * basis
    assert limits.min_notional * (1 - 1e-9) <= notional <= limits.max_notional * (1 + 1e-9)
    assert notional <= LIMITS.max_order_notional * (1 + 1e-9)
    assert worst_case(engine, inst) <= limits.max_position * (1 + 1e-9)
    strategy_limit = next(s for s in LIMITS.strategies if s.id == strategy)
    assert qty * basis <= strategy_limit.max_position_notional * (1 + 1e-9)


class DeskMachine(RuleBasedStateMachine):
    """Random trading against the paper venue; the invariants must hold after every step."""

    @initialize()
    def start(self) -> None:
        self.engine = fresh_engine()
        self.now = 1
        self.marks = dict(REFERENCE)
        self.orders: dict[str, float] = {}
        self.instrument: dict[str, str] = {}

    @rule(
        inst=st.sampled_from(list(INSTRUMENTS)),
        strategy=st.sampled_from(STRATEGIES),
        side=st.sampled_from(["buy", "sell"]),
        type_=st.sampled_from(["limit", "limit", "market"]),
        tif=st.sampled_from(["gtc", "ioc", "fok", "day"]),
        lots=st.integers(min_value=1, max_value=4_000),
        offset_bps=st.integers(min_value=-400, max_value=400),
    )
    def submit_order(
        self,
        inst: str,
        strategy: str,
        side: str,
        type_: str,
        tif: str,
        lots: int,
        offset_bps: int,
    ) -> None:
        limits = INSTRUMENTS[inst]
        qty = round(lots * limits.lot, 8)
        price = None
        if type_ == "limit":
            raw = self.marks[inst] * (1 + offset_bps / 1e4)
            price = round(round(raw / limits.tick) * limits.tick, 8)
        elif tif in ("gtc", "day"):
            tif = "ioc"
        before_worst = worst_case(self.engine, inst)
        before_gross = gross(self.engine, self.marks)
        verdict, codes, order_id = submit(
            self.engine,
            self.now,
            inst=inst,
            strategy=strategy,
            side=side,
            type=type_,
            qty=qty,
            price=price,
            tif=tif,
        )
        event(f"submit: {verdict}")
        status = self.engine.order_status(order_id)
        if status is not None:
            event(f"submit -> {status[0]}")
        if verdict == "ACCEPT":
            self.orders[order_id] = qty
            self.instrument[order_id] = inst
            assert worst_case(self.engine, inst) <= limits.max_position * (1 + 1e-9) or (
                worst_case(self.engine, inst) <= before_worst + 1e-9
            )
            after_gross = gross(self.engine, self.marks)
            assert after_gross <= LIMITS.max_gross_exposure * (1 + 1e-9) or (
                after_gross <= before_gross + 1e-6
            )
        else:
            assert codes

    @rule(
        data=st.data(),
        factor=st.floats(min_value=0.97, max_value=1.03),
        lots=st.integers(min_value=1, max_value=3_000),
    )
    def modify_order(self, data: st.DataObject, factor: float, lots: int) -> None:
        open_ids = self.engine.open_order_ids()
        if not open_ids:
            return
        order_id = data.draw(st.sampled_from(open_ids))
        inst = self.instrument[order_id]
        limits = INSTRUMENTS[inst]
        price = round(round(self.marks[inst] * factor / limits.tick) * limits.tick, 8)
        quantity = round(lots * limits.lot, 8)
        status = self.engine.order_status(order_id)
        assert status is not None
        before_worst = worst_case(self.engine, inst)
        verdict, codes = self.engine.modify(order_id, price, quantity, self.now)
        event(f"modify: {verdict}")
        if verdict == "ACCEPT":
            self.orders[order_id] = status[1] + quantity
            assert worst_case(self.engine, inst) <= limits.max_position * (1 + 1e-9) or (
                worst_case(self.engine, inst) <= before_worst + 1e-9
            )
        else:
            assert codes
            assert self.engine.order_status(order_id) == status

    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        open_ids = self.engine.open_order_ids()
        if not open_ids:
            return
        order_id = data.draw(st.sampled_from(open_ids))
        self.engine.cancel(order_id, self.now)
        status = self.engine.order_status(order_id)
        assert status is not None
        assert status[0] in ("canceled", "filled")

    @rule(
        inst=st.sampled_from(list(INSTRUMENTS)),
        move_bps=st.integers(min_value=-300, max_value=300),
        size=st.floats(min_value=0.0, max_value=80.0),
        dt=st.integers(min_value=0, max_value=5_000),
    )
    def print_trade(self, inst: str, move_bps: int, size: float, dt: int) -> None:
        self.now += dt
        price = round(self.marks[inst] * (1 + move_bps / 1e4), 2)
        self.marks[inst] = price
        fills_before = sum(abs(p[2]) + abs(p[4]) for p in self.engine.positions())
        self.engine.on_trade(inst, self.now, price, size)
        if sum(abs(p[2]) + abs(p[4]) for p in self.engine.positions()) != fills_before:
            event("print filled resting orders")

    @invariant()
    def book_matches_open_orders(self) -> None:
        for inst in INSTRUMENTS:
            buys, sells = self.engine.open_quantities(inst)
            assert buys >= 0
            assert sells >= 0
            book_buys, book_sells = self.engine.book_depth(inst)
            assert math.isclose(book_buys, buys, abs_tol=1e-7)
            assert math.isclose(book_sells, sells, abs_tol=1e-7)

    @invariant()
    def orders_never_overfill(self) -> None:
        for order_id, qty in self.orders.items():
            status = self.engine.order_status(order_id)
            assert status is not None
            name, filled, leaves = status
            assert filled >= 0
            assert leaves >= 0
            assert filled + leaves <= qty * (1 + 1e-9) + 1e-12
            if name in ("filled", "canceled", "expired", "rejected"):
                assert leaves == 0

    @invariant()
    def cash_and_positions_are_conserved_net_of_fees(self) -> None:
        positions = self.engine.positions()
        cost = sum(qty * avg for _, _, qty, avg, _, _, _ in positions)
        realized = sum(p[4] for p in positions)
        fees = sum(p[5] for p in positions)
        start = LIMITS.starting_cash
        assert math.isclose(
            self.engine.cash + cost, start + realized - fees, rel_tol=1e-9, abs_tol=1e-6
        )
        marked = sum(qty * (mark if mark else avg) for _, _, qty, avg, _, _, mark in positions)
        assert math.isclose(
            self.engine.equity, self.engine.cash + marked, rel_tol=1e-9, abs_tol=1e-6
        )

    @invariant()
    def position_limits_in_units_hold(self) -> None:
        for inst, limits in INSTRUMENTS.items():
            position = sum(p[2] for p in self.engine.positions() if p[1] == inst)
            assert abs(position) <= limits.max_position * (1 + 1e-9)


DeskMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDeskMachine = DeskMachine.TestCase
