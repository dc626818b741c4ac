"""Small limits and order builders shared by the gateway tests."""

from __future__ import annotations

import copy
import json
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


# The gate's test limits: one file, also read by the Rust integration tests
# (gateway/tests/common/mod.rs) and config.rs's unit tests. A test that needs other values
# passes them to `limits_dict`/`limits`, or edits the dict it gets, in the test.
LIMITS_JSON = Path(__file__).resolve().parents[1] / "gateway/tests/fixtures/limits.json"
_BASE: dict[str, Any] = json.loads(LIMITS_JSON.read_text(encoding="utf-8"))
# Validated once, by pydantic and then the Rust engine, when the tests load.
BASE_LIMITS = parse_limits(_BASE, str(LIMITS_JSON))


def limits_dict(**overrides: Any) -> dict[str, Any]:
    """The shared limits as a fresh dict (the file's own keys, nothing filled in), with
    top-level `overrides`: the raw input for tests that feed JSON or TOML straight in."""
    data = copy.deepcopy(_BASE)
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
    """The shared limits as the gateway takes them; overrides are validated like a file."""
    return parse_limits(limits_dict(**overrides)) if overrides else BASE_LIMITS


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
