"""The stream's record schema, versioned: what an adapter writes to `md.trades.v1` and
`md.books.v1`, and the reading of a record that says why it is refused (a dead letter, never
a silent drop). JSON, one object per record; `schema` names the version so a reader can
refuse what it does not know rather than misread it."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_SYMBOL = r"^[A-Za-z0-9._/:-]{1,40}$"


class TradeV1(BaseModel):
    """One trade printed on a venue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["trade.v1"] = Field(default="trade.v1", alias="schema")
    venue: str = Field(pattern=r"^[a-z0-9_.-]{1,32}$")
    symbol: str = Field(pattern=_SYMBOL)
    trade_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0, description="The adapter's count of this feed's records.")
    session: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="The adapter run that numbered it: a restarted adapter counts afresh.",
    )
    ts_ms: int = Field(gt=0, description="When the venue printed it, ms since the epoch (UTC).")
    price: float = Field(gt=0, allow_inf_nan=False)
    quantity: float = Field(gt=0, allow_inf_nan=False)
    side: Literal["buy", "sell"] | None = None

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"


class BookV1(BaseModel):
    """The top of a venue's book."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["book.v1"] = Field(default="book.v1", alias="schema")
    venue: str = Field(pattern=r"^[a-z0-9_.-]{1,32}$")
    symbol: str = Field(pattern=_SYMBOL)
    seq: int = Field(ge=0)
    session: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    ts_ms: int = Field(gt=0)
    bid: float = Field(gt=0, allow_inf_nan=False)
    ask: float = Field(gt=0, allow_inf_nan=False)
    bid_size: float = Field(ge=0, allow_inf_nan=False)
    ask_size: float = Field(ge=0, allow_inf_nan=False)

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"


def encode(record: TradeV1 | BookV1) -> bytes:
    return record.model_dump_json(by_alias=True).encode()


MAX_RECORD = 64 * 1024
_TRADE_PREFIX = b'{"schema":"trade.v1",'


def decode(payload: bytes | None) -> TradeV1 | BookV1 | str:
    """The record in `payload`, or why it cannot be read (a line for the dead-letter topic)."""
    if payload is None:
        return "empty record (no value)"
    if len(payload) > MAX_RECORD:
        return f"record of {len(payload)} bytes is over the {MAX_RECORD}-byte limit"
    if payload.startswith(_TRADE_PREFIX):
        # The adapters' own form: parsed and checked in one pass (a quarter of the cost).
        try:
            return TradeV1.model_validate_json(payload)
        except ValidationError:
            pass  # the general reading below says why, in the same words as for any record
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not JSON: {exc}"[:300]
    if not isinstance(data, dict):
        return f"not a JSON object but {type(data).__name__}"
    schema = data.get("schema")
    if schema not in ("trade.v1", "book.v1"):
        return f"unknown schema {str(schema)[:40]!r} (this reader knows trade.v1, book.v1)"
    try:
        return TradeV1.model_validate(data) if schema == "trade.v1" else BookV1.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{schema}: {where}: {first['msg']} ({exc.error_count()} problem(s))"[:300]
