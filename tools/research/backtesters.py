"""The two backtesters. Both take one strategy definition and share the fill model in
`fill_model.py`; the event-driven one drives the Rust gate and paper venue bar by bar."""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway import GateLimits, parse_limits
from gateway._core import Engine
from tools.research.bars import BarSeries, Floats
from tools.research.fill_model import Costs, simulate_weights
from tools.research.results import BacktestResult, GateSummary, build_result
from tools.research.strategies import Strategy, _Strategy

INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000,
               "4h": 14_400_000, "1d": 86_400_000, "1w": 604_800_000}  # fmt: skip
BACKTEST_STRATEGY = "backtest"


def run_vectorised(
    bars: BarSeries, strategy: Strategy | _Strategy, costs: Costs, cash: float = 100_000.0
) -> BacktestResult:
    weights = strategy.weights(bars)
    return run_weights_vectorised(bars, weights, costs, cash, strategy.model_dump())


def run_weights_vectorised(
    bars: BarSeries, weights: Floats, costs: Costs, cash: float, params: dict[str, Any]
) -> BacktestResult:
    equity, position, _, _ = simulate_weights(bars.open, bars.close, weights, cash, costs)
    return build_result("vectorised", bars, equity, position, costs, params=params)


def backtest_limits(bars: BarSeries, costs: Costs, cash: float, **overrides: Any) -> GateLimits:
    """Limits that let a backtest trade freely unless `overrides` tighten them (for example
    `max_position=...` on the instrument, to see the gate deny)."""
    instrument = {
        "id": bars.instrument_id, "tick": 1e-8, "lot": costs.lot, "min_quantity": costs.lot,
        "max_quantity": 1e15, "max_notional": 1e18, "max_position": 1e15,
    }  # fmt: skip
    instrument.update({k: v for k, v in overrides.items() if k in instrument})
    data: dict[str, Any] = {
        "limits_version": "backtest", "account_id": "backtest", "starting_cash": cash,
        "margin_mode": "margin", "leverage": 10.0, "max_order_notional": 1e18,
        "approval_notional": 1e18, "dual_approval_notional": 1e18,
        "approval_ttl_ms": 1, "approval_ttl_max_ms": 1, "collar_bps": 1e6,
        "max_reference_age_ms": 10**15, "max_gross_exposure": 1e18,
        "max_net_exposure": 1e18, "daily_loss_limit": 1e18, "max_drawdown": 1.0,
        "submit_rate": {"max": 10**9, "window_ms": 1},
        "modify_rate": {"max": 10**9, "window_ms": 1},
        "instruments": [instrument],
        "strategies": [{"id": BACKTEST_STRATEGY, "max_position_notional": 1e18}],
        "paper": {
            "latency_ms": 0, "slippage_bps": costs.slippage_bps,
            "half_spread_bps": costs.half_spread_bps, "liquidity_fraction": 1e9,
            "maker_fee_bps": 0.0, "taker_fee_bps": costs.commission * 1e4,
        },
    }  # fmt: skip
    data.update({k: v for k, v in overrides.items() if k not in instrument})
    return parse_limits(data, "backtest limits")


def run_event_driven(
    bars: BarSeries,
    strategy: Strategy | _Strategy,
    costs: Costs,
    cash: float = 100_000.0,
    limits: GateLimits | None = None,
) -> BacktestResult:
    weights = strategy.weights(bars)
    return run_weights_event_driven(bars, weights, costs, cash, limits, strategy.model_dump())


def run_weights_event_driven(
    bars: BarSeries,
    weights: Floats,
    costs: Costs,
    cash: float,
    limits: GateLimits | None,
    params: dict[str, Any],
) -> BacktestResult:
    limits = limits or backtest_limits(bars, costs, cash)
    engine = Engine(limits.to_engine_json())
    interval = INTERVAL_MS.get(bars.interval, 86_400_000)
    out = engine.replay_targets(
        bars.instrument_id, BACKTEST_STRATEGY,
        np.ascontiguousarray(bars.ts.asi8 // 1_000_000, dtype=np.int64),
        bars.open, bars.high, bars.low, bars.close, bars.volume,
        np.ascontiguousarray(weights, dtype=np.float64), interval, costs.rebalance_band,
    )  # fmt: skip
    equity = np.frombuffer(out["equity"], dtype=np.float64)
    position = np.frombuffer(out["position"], dtype=np.float64)
    gate = GateSummary(
        orders=int(out["orders"]),
        denied=int(out["denied"]),
        needs_approval=int(out["needs_approval"]),
        denial_reasons=tuple(out["denial_reasons"]),
    )
    return build_result("event_driven", bars, equity, position, costs, gate=gate, params=params)
