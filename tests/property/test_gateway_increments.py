"""The gate's tick and lot checks are exact at any magnitude: PRICE_NOT_ON_TICK and
QUANTITY_NOT_ON_LOT agree with `Decimal(repr(x)) % Decimal(repr(step)) == 0`, the decimal a
person typed, for values near and far from the grid, tiny and huge."""

from __future__ import annotations

import json
import math
from decimal import Decimal, localcontext

import hypothesis.strategies as st
from hypothesis import event, example, given, settings

from gateway._core import Engine, OrderRequest, is_on_increment
from tests.gateway_fixtures import limits_dict

STEPS = [0.01, 0.5, 1e-8, 0.25, 5.0, 0.1, 0.001, 1e-4, 2.5, 100.0, 0.05, 1e-12]


def decimal_on_grid(value: float, step: float) -> bool:
    # Enough digits for any f64 over any f64 step: 309 integer digits, 324 fraction digits
    # (a remainder needs the whole quotient within the context's precision).
    with localcontext() as ctx:
        ctx.prec = 1_000
        return Decimal(repr(value)) % Decimal(repr(step)) == 0


def engine_for(step: float) -> Engine:
    """An engine whose only instrument has this tick and this lot (and wide limits, so the
    grid codes are the ones that matter)."""
    instrument = {
        "id": "paper:X/USD", "tick": step, "lot": step, "min_quantity": step,
        "max_quantity": 1e300, "max_notional": 1e300, "max_position": 1e300,
    }  # fmt: skip
    return Engine(json.dumps(limits_dict(instruments=[instrument])))


ENGINES = {step: engine_for(step) for step in STEPS}


def grid_codes(step: float, value: float) -> tuple[bool, bool]:
    """(price on tick, quantity on lot) as the gate decides them for `value`."""
    request = OrderRequest(
        order_id="o", client_order_id="c", account_id="paper", strategy_id="momentum",
        instrument_id="paper:X/USD", side="buy", order_type="limit", quantity=value, price=value,
    )  # fmt: skip
    _, codes = ENGINES[step].check(request, 0)
    return "PRICE_NOT_ON_TICK" not in codes, "QUANTITY_NOT_ON_LOT" not in codes


def on_grid_value(step: float, steps: int) -> float:
    """The float nearest `steps` whole steps (exactly on the grid when it round-trips)."""
    return float(Decimal(steps) * Decimal(repr(step)))


steps_counts = st.one_of(
    st.integers(0, 1_000),
    st.integers(0, 10**9),
    st.integers(0, 10**20),
    st.integers(0, 10**300),
)
off_by = st.sampled_from(["0", "0.5", "1e-5", "1e-9", "0.999999", "1e-15", "0.00001"])


def near_grid(step: float, count: int, offset: str, ulps: int) -> float:
    value = float((Decimal(count) + Decimal(offset)) * Decimal(repr(step)))
    for _ in range(abs(ulps)):
        value = math.nextafter(value, math.inf if ulps > 0 else 0.0)
    return value


@settings(max_examples=3_000, deadline=None)
@given(
    step=st.sampled_from(STEPS),
    value=st.one_of(
        st.floats(min_value=0.0, allow_nan=False, allow_infinity=False),
        st.builds(on_grid_value, st.sampled_from(STEPS), steps_counts),
    ),
)
@example(step=0.01, value=10_000_000.005)
@example(step=0.01, value=30_000.0100001)
@example(step=1e-8, value=12.345678905)
@example(step=0.01, value=30_000.01)
@example(step=0.1, value=0.30000000000000004)
def test_the_grid_check_is_decimal_divisibility(step: float, value: float) -> None:
    expected = decimal_on_grid(value, step)
    event(f"on grid: {expected}")
    assert is_on_increment(value, step) is expected
    if value > 0:
        assert grid_codes(step, value) == (expected, expected)


@settings(max_examples=3_000, deadline=None)
@given(
    step=st.sampled_from(STEPS),
    count=steps_counts,
    offset=off_by,
    ulps=st.integers(-3, 3),
)
def test_values_a_hair_off_the_grid_are_refused(
    step: float, count: int, offset: str, ulps: int
) -> None:
    """The relative tolerance let through values a fraction of a tick off the grid, more of
    them the farther from zero; exact arithmetic has no such band."""
    value = near_grid(step, count, offset, ulps)
    expected = decimal_on_grid(value, step)
    event(f"on grid: {expected}")
    assert is_on_increment(value, step) is expected
    if value > 0:
        assert grid_codes(step, value) == (expected, expected)
