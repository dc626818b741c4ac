"""Orders, fills, positions and accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self
from uuid import UUID, uuid4

from pydantic import Field, model_validator

from core.models.base import DomainModel, Identifier, NonNegativeFloat, PositiveFloat, UtcDatetime


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    DAY = "day"
    GTD = "gtd"


class OrderStatus(StrEnum):
    """The order state machine's states (transitions live in the gateway)."""

    INITIALIZED = "initialized"
    DENIED = "denied"
    PENDING_APPROVAL = "pending_approval"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_UPDATE = "pending_update"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    EXPIRED = "expired"


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class Order(DomainModel):
    """An order as a strategy proposes it; the gate decides whether it may go on."""

    order_id: UUID = Field(default_factory=uuid4)
    client_order_id: str = Field(min_length=1, max_length=64)
    strategy_id: Identifier
    account_id: Identifier
    venue_id: Identifier
    symbol: Identifier
    side: Side
    order_type: OrderType
    quantity: PositiveFloat
    limit_price: PositiveFloat | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at: UtcDatetime | None = None
    reduce_only: bool = False
    created_at: UtcDatetime
    status: OrderStatus = OrderStatus.INITIALIZED

    @model_validator(mode="after")
    def _price_and_expiry_match_type(self) -> Self:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_at is not None):
            raise ValueError("expire_at is required for GTD orders and only for them")
        return self


class Fill(DomainModel):
    """An execution against an order."""

    fill_id: str = Field(min_length=1, max_length=128)
    order_id: UUID
    strategy_id: Identifier
    account_id: Identifier
    venue_id: Identifier
    symbol: Identifier
    side: Side
    quantity: PositiveFloat
    price: PositiveFloat
    fee: float = 0.0
    fee_currency: Identifier = "USD"
    liquidity: Liquidity = Liquidity.TAKER
    ts: UtcDatetime


class Position(DomainModel):
    """Net position of one strategy in one instrument; quantity is signed (short < 0)."""

    account_id: Identifier
    strategy_id: Identifier
    venue_id: Identifier
    symbol: Identifier
    quantity: float
    average_price: NonNegativeFloat = 0.0
    realized_pnl: float = 0.0
    unrealized_pnl: float = 0.0
    as_of: datetime | None = None


class Account(DomainModel):
    """Cash and state of one trading account."""

    account_id: Identifier
    base_currency: Identifier = "USD"
    cash: float
    trading_state: TradingState = TradingState.ACTIVE
    starting_equity: PositiveFloat | None = None
