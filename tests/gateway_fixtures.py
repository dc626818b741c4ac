"""Small limits and order builders shared by the gateway tests."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import yaml

from core.models.trading import Order, OrderType, Side, TimeInForce
from gateway import GateLimits, parse_limits
from gateway.limits import DEFAULT_LIMITS

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def limits_dict(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "limits_version": "test-7",
        "account_id": "paper",
        "starting_cash": 1_000_000.0,
        "margin_mode": "margin",
        "leverage": 2.0,
        "max_order_notional": 200_000.0,
        "approval_notional": 50_000.0,
        "dual_approval_notional": 150_000.0,
        "approval_ttl_ms": 60_000,
        "approval_ttl_max_ms": 600_000,
        "collar_bps": 500.0,
        "max_reference_age_ms": 60_000,
        "max_gross_exposure": 600_000.0,
        "max_net_exposure": 400_000.0,
        "daily_loss_limit": 50_000.0,
        "max_drawdown": 0.2,
        "submit_rate": {"max": 1_000, "window_ms": 1_000},
        "modify_rate": {"max": 1_000, "window_ms": 1_000},
        "instruments": [
            {
                "id": "paper:BTC/USD",
                "tick": 0.5,
                "lot": 0.001,
                "min_quantity": 0.001,
                "max_quantity": 10.0,
                "min_notional": 10.0,
                "max_notional": 300_000.0,
                "max_position": 12.0,
            },
            {
                "id": "paper:ETH/USD",
                "tick": 0.01,
                "lot": 0.01,
                "min_quantity": 0.01,
                "max_quantity": 500.0,
                "max_notional": 300_000.0,
                "max_position": 150.0,
            },
        ],
        "strategies": [
            {"id": "momentum", "max_position_notional": 300_000.0},
            {"id": "mean_reversion", "max_position_notional": 100_000.0},
        ],
        "paper": {"half_spread_bps": 1.0, "taker_fee_bps": 5.0, "maker_fee_bps": 1.0},
    }
    data.update(overrides)
    return data


def default_limits_file(folder: Path, **changes: Any) -> Path:
    """The desk's default limits with `changes`, written to a file for
    `Settings(limits_path=...)`: how a test sets another approval policy."""
    data = tomllib.loads(DEFAULT_LIMITS.read_text(encoding="utf-8")) | changes
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "limits.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def limits(**overrides: Any) -> GateLimits:
    return parse_limits(limits_dict(**overrides))


def order(
    side: Side = Side.BUY,
    quantity: float = 0.1,
    price: float | None = 30_000.0,
    *,
    symbol: str = "BTC/USD",
    strategy: str = "momentum",
    tif: TimeInForce = TimeInForce.GTC,
    expire_at: datetime | None = None,
    reduce_only: bool = False,
) -> Order:
    return Order(
        client_order_id=f"c-{uuid4().hex[:12]}",
        strategy_id=strategy,
        account_id="paper",
        venue_id="paper",
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=quantity,
        limit_price=price,
        time_in_force=tif if price is not None or tif is not TimeInForce.GTC else TimeInForce.IOC,
        expire_at=expire_at,
        reduce_only=reduce_only,
        created_at=T0,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
