"""Gateway benchmark: one pre-trade check through Python (p50/p99), batch checks per second,
and order-book operations per second.

Targets (2-core machine): p99 <= 5 us per check including the Python call (<= 2 us through
the typed `Gateway.check`, a pydantic `Order` in and a `GateDecision` out); >= 5M checks/s
in batch on one core; >= 1M book operations/s. No peer library offers a comparable
pre-trade gate (vectorbt and backtesting.py have none), so there is no ratio here.
Run: uv run python -m benchmarks.gateway_checks
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.models.trading import Order, OrderType, Side
from gateway import Gateway, load_limits
from gateway._core import Engine, OrderRequest

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)

ROOT = Path(__file__).resolve().parents[1]


def _engine() -> Engine:
    limits = load_limits().model_copy(
        update={"approval_notional": 1e12, "dual_approval_notional": 1e12}
    )
    engine = Engine(limits.to_engine_json())
    engine.on_trade("bitstamp:BTC/USD", 0, 30_000.0, 50.0)
    engine.on_trade("bitstamp:ETH/USD", 0, 2_000.0, 500.0)
    return engine


def single_checks(n: int = 200_000) -> list[int]:
    engine = _engine()
    request = OrderRequest(
        order_id="o-1", client_order_id="c-1", account_id="paper", strategy_id="momentum",
        instrument_id="bitstamp:BTC/USD", side="buy", order_type="limit", quantity=0.5,
        price=29_990.0,
    )  # fmt: skip
    check = engine.check
    clock = time.perf_counter_ns
    for _ in range(20_000):
        check(request, 1)
    assert check(request, 1) == ("ACCEPT", [])
    samples = []
    for _ in range(n):
        start = clock()
        check(request, 1)
        samples.append(clock() - start)
    return samples


def timer_overhead(n: int = 200_000) -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        start = clock()
        samples.append(clock() - start)
    return statistics.median(samples)


def pydantic_checks(n: int = 20_000, *, fixed_clock: bool = False) -> list[int]:
    """`Gateway.check` as the desk calls it: on the wall clock, the engine reads the time and
    makes the decision in one call. `fixed_clock` measures a test's clock instead, which
    converts a datetime to milliseconds in Python on every check."""
    gateway = Gateway(load_limits(), clock=lambda: T0) if fixed_clock else Gateway(load_limits())
    gateway.set_reference("bitstamp", "BTC/USD", 30_000.0)
    probe = Order(
        client_order_id="c-1",
        strategy_id="momentum",
        account_id="paper",
        venue_id="bitstamp",
        symbol="BTC/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=0.5,
        limit_price=29_990.0,
        created_at=T0,
    )
    check = gateway.check
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        start = clock()
        check(probe)
        samples.append(clock() - start)
    # Every sample timed a full check that passes, not a refusal's short path.
    assert check(probe).accepted, check(probe)
    return samples


def batch_checks(n: int = 2_000_000, repeats: int = 5) -> tuple[float, dict[str, int]]:
    engine = _engine()
    rng = np.random.default_rng(1)
    instrument = rng.integers(0, 2, n).astype(np.uint32)
    strategy = rng.integers(0, 3, n).astype(np.uint32)
    side = rng.integers(0, 2, n).astype(np.uint8)
    kind = np.ones(n, dtype=np.uint8)
    reference = np.where(instrument == 0, 30_000.0, 2_000.0)
    price = np.round(reference * rng.uniform(0.96, 1.04, n), 2)
    quantity = np.round(rng.uniform(0.001, 2.0, n), 3)
    best = float("inf")
    verdicts = b""
    for _ in range(repeats):
        start = time.perf_counter()
        verdicts, _masks = engine.check_batch(instrument, strategy, side, kind, price, quantity, 1)
        best = min(best, time.perf_counter() - start)
    counts = np.bincount(np.frombuffer(verdicts, dtype=np.uint8), minlength=3)
    mix = {"accept": int(counts[0]), "deny": int(counts[1]), "needs_approval": int(counts[2])}
    return n / best, mix


def book_ops() -> str:
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--example", "book_ops", "--quiet"],
        cwd=ROOT / "gateway",
        check=True,
    )
    out = subprocess.run(
        [str(ROOT / "gateway" / "target" / "release" / "examples" / "book_ops")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out


def engine_round_trips(n: int = 100_000) -> float:
    """Submit + cancel of resting orders through Python: gate, state machine, paper book.
    One submit per 100 simulated ms keeps under the default 50/s throttle."""
    engine = _engine()
    start = time.perf_counter()
    for k in range(n):
        order_id = f"o-{k}"
        request = OrderRequest(
            order_id=order_id, client_order_id=f"c-{k}", account_id="paper",
            strategy_id="momentum", instrument_id="bitstamp:BTC/USD", side="buy",
            order_type="limit", quantity=0.01, price=29_500.0,
        )  # fmt: skip
        engine.submit(request, None, k * 100)
        engine.cancel(order_id, k * 100)
        engine.drain_events()
    return 2 * n / (time.perf_counter() - start)


def main() -> None:
    overhead = timer_overhead()
    samples = sorted(single_checks())
    p50 = samples[len(samples) // 2] / 1e3
    p99 = samples[int(len(samples) * 0.99)] / 1e3
    print(
        f"one check via Python (Engine.check, a prebuilt OrderRequest): p50 {p50:.2f} us, "
        f"p99 {p99:.2f} us (includes ~{overhead / 1e3:.2f} us of timer overhead per sample)"
    )
    for fixed, label in ((False, "the wall clock, as the desk runs"), (True, "a fixed test clock")):
        pyd = sorted(pydantic_checks(fixed_clock=fixed))
        print(
            f"one check via Gateway.check (pydantic Order in, typed GateDecision out; {label}): "
            f"p50 {pyd[len(pyd) // 2] / 1e3:.2f} us, p99 {pyd[int(len(pyd) * 0.99)] / 1e3:.2f} us"
        )
    rate, mix = batch_checks()
    print(
        f"batch checks (2M orders, numpy arrays, one thread): {rate:,.0f} checks/s "
        f"{json.dumps(mix)}"
    )
    line = book_ops()
    ops = float(re.search(r"ops_per_s=(\d+)", line).group(1))  # type: ignore[union-attr]
    print(f"book operations (Rust, add/cancel/execute mix): {ops:,.0f} ops/s  [{line}]")
    print(f"engine submit+cancel via Python (gate + state machine + paper book + events): "
          f"{engine_round_trips():,.0f} ops/s")  # fmt: skip


if __name__ == "__main__":
    main()
