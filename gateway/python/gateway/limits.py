"""Gate limits: a frozen pydantic model loaded from TOML or YAML. Validation errors name the
field (`instruments[1].tick`); the Rust engine validates the same config again."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway._core import validate_config

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class LimitsError(ValueError):
    """A limits file that cannot be used; the message names the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MarginMode(StrEnum):
    CASH = "cash"
    MARGIN = "margin"


class RateLimit(_Frozen):
    max: int = Field(gt=0)
    window_ms: int = Field(gt=0)


class InstrumentLimits(_Frozen):
    id: str = Field(pattern=r"^[^:\s]+:[^:\s]+$", description="venue:symbol")
    tick: Positive
    lot: Positive
    min_quantity: Positive
    max_quantity: Positive
    min_notional: NonNegative = 0.0
    max_notional: Positive
    max_position: Positive = Field(description="Largest absolute account position, in units.")
    tradable: bool = True


class StrategyLimits(_Frozen):
    """A risk class: the position limit every strategy of the listed `kinds` trades under,
    each with its own id, positions and trading state. The class's own id is a strategy too
    (`manual` books the orders a person types)."""

    id: str = Field(min_length=1, max_length=64)
    max_position_notional: Positive
    kinds: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=(), description="Strategy kinds (ts_momentum, vol_target, ...) in this class."
    )


class PaperVenue(_Frozen):
    latency_ms: int = Field(default=0, ge=0)
    slippage_bps: NonNegative = 0.0
    half_spread_bps: NonNegative = 1.0
    liquidity_fraction: Positive = 1.0
    maker_fee_bps: NonNegative = 0.0
    taker_fee_bps: NonNegative = 0.0


class GateLimits(_Frozen):
    """Everything the pre-trade gate enforces; `limits_version` is recorded with each decision."""

    limits_version: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    starting_cash: NonNegative
    margin_mode: MarginMode
    leverage: Positive = 1.0
    max_order_notional: Positive
    approval_notional: Positive = Field(description="Above this, one human approves.")
    dual_approval_notional: Positive = Field(
        description="Above this, two distinct humans approve; the gate counts them."
    )
    approval_ttl_ms: int = Field(
        gt=0, description="How long an approval request waits for its answers."
    )
    approval_ttl_max_ms: int = Field(gt=0, description="The longest approval_ttl_ms allowed.")
    collar_bps: Positive
    max_reference_age_ms: int = Field(gt=0)
    max_gross_exposure: Positive
    max_net_exposure: Positive
    daily_loss_limit: Positive
    max_drawdown: float = Field(gt=0, le=1)
    submit_rate: RateLimit
    modify_rate: RateLimit
    instruments: tuple[InstrumentLimits, ...] = Field(min_length=1)
    strategies: tuple[StrategyLimits, ...] = Field(min_length=1)
    restricted: tuple[str, ...] = ()
    paper: PaperVenue = PaperVenue()

    @model_validator(mode="after")
    def _consistent(self) -> GateLimits:
        if self.margin_mode is MarginMode.CASH and self.leverage != 1.0:
            raise ValueError("leverage must be 1 in cash mode")
        for name, items in (("instruments", self.instruments), ("strategies", self.strategies)):
            ids = [item.id for item in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{name} lists {duplicates} more than once")
        kinds = [kind for s in self.strategies for kind in s.kinds]
        twice = sorted({k for k in kinds if kinds.count(k) > 1})
        if twice:
            raise ValueError(f"strategy kinds {twice} are in more than one risk class")
        if self.dual_approval_notional < self.approval_notional:
            raise ValueError("dual_approval_notional must be >= approval_notional")
        if self.approval_ttl_ms > self.approval_ttl_max_ms:
            raise ValueError("approval_ttl_ms must be <= approval_ttl_max_ms")
        for k, inst in enumerate(self.instruments):
            if inst.max_quantity < inst.min_quantity:
                raise ValueError(f"instruments[{k}].max_quantity is below min_quantity")
        return self

    def risk_class_of(self, kind: str) -> str | None:
        """The risk class strategies of `kind` trade under; None when no class lists it."""
        return next((s.id for s in self.strategies if kind in s.kinds), None)

    def to_engine_json(self) -> str:
        return self.model_dump_json()


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<root>"


def parse_limits(data: object, source: str = "limits") -> GateLimits:
    """Validate raw limits (a dict from TOML/YAML/JSON) in pydantic, then in Rust."""
    try:
        limits = GateLimits.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LimitsError(f"{source}: {_field_path(first['loc'])}: {first['msg']}") from exc
    try:
        validate_config(limits.to_engine_json())
    except ValueError as exc:
        raise LimitsError(f"{source}: {exc}") from exc
    return limits


DEFAULT_LIMITS = Path(__file__).with_name("default_limits.toml")


def load_limits(path: str | Path = DEFAULT_LIMITS) -> GateLimits:
    """Read limits from a .toml, .yaml or .yml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LimitsError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        if path.suffix == ".toml":
            data: object = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise LimitsError(f"{path}: limits must be a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise LimitsError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    return parse_limits(data, str(path))
