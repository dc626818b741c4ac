"""The stream's record schema, versioned: what an adapter writes to `md.trades.v1` and
`md.books.v1`, and the reading of a record that says why it is refused (a dead letter, never
a silent drop). JSON, one object per record; `schema` names the version so a reader can
refuse what it does not know rather than misread it.

A trades record carries one trade (`trade.v1`) or a run of one feed's trades in columns
(`trade_batch.v1`), numbered on from `first_seq`. A record costs the flow some microseconds
however small it is (Kafka's framing, the JSON parse, a Bytewax step), so a record per trade
caps the flow near 40k trades/s on two cores; an adapter that has many trades at hand (a
websocket message's worth, a replay) sends them as one record."""

from __future__ import annotations

import json
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_SYMBOL = r"^[A-Za-z0-9._/:-]{1,40}$"
_VENUE = r"^[a-z0-9_.-]{1,32}$"
_SESSION = r"^[A-Za-z0-9_.-]{1,64}$"
_SESSION_DOC = "The adapter run that numbered it: a restarted adapter counts afresh."
MAX_BATCH = 5_000
"""Trades in one `trade_batch.v1` record at most."""


class TradeV1(BaseModel):
    """One trade printed on a venue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["trade.v1"] = Field(default="trade.v1", alias="schema")
    venue: str = Field(pattern=_VENUE)
    symbol: str = Field(pattern=_SYMBOL)
    trade_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0, description="The adapter's count of this feed's trades and books.")
    session: str | None = Field(default=None, pattern=_SESSION, description=_SESSION_DOC)
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
    venue: str = Field(pattern=_VENUE)
    symbol: str = Field(pattern=_SYMBOL)
    seq: int = Field(ge=0)
    session: str | None = Field(default=None, pattern=_SESSION, description=_SESSION_DOC)
    ts_ms: int = Field(gt=0)
    bid: float = Field(gt=0, allow_inf_nan=False)
    ask: float = Field(gt=0, allow_inf_nan=False)
    bid_size: float = Field(ge=0, allow_inf_nan=False)
    ask_size: float = Field(ge=0, allow_inf_nan=False)

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"


Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class TradeBatchV1(BaseModel):
    """A run of one feed's trades, in columns: trade `i` is numbered `first_seq + i`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["trade_batch.v1"] = Field(default="trade_batch.v1", alias="schema")
    venue: str = Field(pattern=_VENUE)
    symbol: str = Field(pattern=_SYMBOL)
    session: str | None = Field(default=None, pattern=_SESSION, description=_SESSION_DOC)
    first_seq: int = Field(ge=0)
    trade_id: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )
    ts_ms: list[Annotated[int, Field(gt=0, strict=True)]]
    price: list[Positive]
    quantity: list[Positive]
    side: list[Literal["buy", "sell"] | None]

    @model_validator(mode="after")
    def _columns_line_up(self) -> Self:
        n = len(self.trade_id)
        lengths = (len(self.ts_ms), len(self.price), len(self.quantity), len(self.side))
        if any(length != n for length in lengths):
            raise ValueError(f"columns of unequal length: {n} trade ids, then {lengths}")
        return self

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"

    @classmethod
    def of(cls, trades: list[TradeV1]) -> TradeBatchV1:
        """`trades` (one feed's, numbered one after another) as one record."""
        first = trades[0]
        return cls(
            venue=first.venue, symbol=first.symbol, session=first.session,
            first_seq=first.seq, trade_id=[t.trade_id for t in trades],
            ts_ms=[t.ts_ms for t in trades], price=[t.price for t in trades],
            quantity=[t.quantity for t in trades], side=[t.side for t in trades],
        )  # fmt: skip

    def trades(self) -> list[TradeV1]:
        """Each trade as a record of its own."""
        columns = zip(self.trade_id, self.ts_ms, self.price, self.quantity, self.side, strict=True)
        return [
            TradeV1(
                venue=self.venue,
                symbol=self.symbol,
                trade_id=trade_id,
                seq=self.first_seq + i,
                session=self.session,
                ts_ms=ts_ms,
                price=price,
                quantity=quantity,
                side=side,
            )
            for i, (trade_id, ts_ms, price, quantity, side) in enumerate(columns)
        ]


Record = TradeV1 | BookV1 | TradeBatchV1
RecordType = type[TradeV1] | type[BookV1] | type[TradeBatchV1]
_SCHEMAS: dict[str, RecordType] = {
    "trade.v1": TradeV1,
    "book.v1": BookV1,
    "trade_batch.v1": TradeBatchV1,
}


def trades_in(record: Record) -> int:
    """How many trades `record` carries."""
    if isinstance(record, TradeBatchV1):
        return len(record.ts_ms)
    return 1 if isinstance(record, TradeV1) else 0


def encode(record: Record) -> bytes:
    return record.model_dump_json(by_alias=True).encode()


MAX_RECORD = 1024 * 1024
"""Kafka's own default record limit: a batch of `MAX_BATCH` trades fits in about a quarter."""
# The adapters' own forms, parsed and checked in one pass (a quarter of the cost).
_FAST: dict[bytes, RecordType] = {
    b'{"schema":"trade.v1",': TradeV1,
    b'{"schema":"trade_batch.v1",': TradeBatchV1,
}


def decode(payload: bytes | None) -> Record | str:
    """The record in `payload`, or why it cannot be read (a line for the dead-letter topic)."""
    if payload is None:
        return "empty record (no value)"
    if len(payload) > MAX_RECORD:
        return f"record of {len(payload)} bytes is over the {MAX_RECORD}-byte limit"
    for prefix, fast in _FAST.items():
        if payload.startswith(prefix):
            try:
                return fast.model_validate_json(payload)
            except ValidationError:
                break  # the general reading below says why, in the same words as for any record
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not JSON: {exc}"[:300]
    if not isinstance(data, dict):
        return f"not a JSON object but {type(data).__name__}"
    schema = data.get("schema")
    model = _SCHEMAS.get(schema) if isinstance(schema, str) else None
    if model is None:
        known = ", ".join(_SCHEMAS)
        return f"unknown schema {str(schema)[:40]!r} (this reader knows {known})"
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{schema}: {where}: {first['msg']} ({exc.error_count()} problem(s))"[:300]
