"""The routing tools the LLM is given, each a tight grammar: `RequestKind` (the kind, an enum
with `unknown` first), then for a kind that takes details `RequestFields` with only that
kind's fields. Every field is required and nullable, so the model says "none" instead of
leaving a field out; sides, strategies and instruments are enums of what the desk has
(`OTHER` for an instrument it does not trade); quantities, prices and shares are enums of
those the request's own words write (null alone where it writes none). With a named tool
choice an OpenAI-compatible server constrains generation to the schema (llama.cpp compiles
it to a grammar), and `RoutedIntent` validates it again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.directives import trades_said
from graph.evidence import base_of, shares_written
from graph.instruction import own_words
from graph.instrument_names import named_bases
from graph.intents import Intent, RoutedKind, StrategyName
from graph.numbers import numbers_in_text
from graph.trade_phrase import symbols_named

OTHER = "OTHER"
# Capitalised words that are not instruments ("SYSTEM:", "PnL", "USD" alone).
_NOT_TICKERS = frozenset({"SYSTEM", "ADMIN", "USD", "PNL", "VAR", "ES", "OK", "ASAP", "ML", "SMA"})
# Every field of the tool, as "nothing said": an answer or an example fills in what it says.
NULL_ROUTE: dict[str, Any] = {
    "symbol": None, "side": None, "quantity": None, "fraction": None, "limit_price": None,
    "strategy": None, "stage": None, "paper_trade": False,
}  # fmt: skip
KIND_TOOL = "RequestKind"
FIELDS_TOOL = "RequestFields"
# The details each kind takes; a kind not here takes none, and is one call.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "positions": ("symbol",), "exposure": ("symbol",), "price": ("symbol",),
    "correlation": ("symbol",), "cancel": ("symbol",),
    "trade": ("symbol", "side", "quantity", "fraction", "limit_price"),
    "close": ("symbol", "fraction"),
    "research": ("symbol", "strategy", "paper_trade"),
    "backtest": ("symbol", "strategy"),
    "promote": ("symbol", "strategy", "stage"),
}  # fmt: skip
_ORDER_KINDS = ("trade", "close")
_ORDER_FIELDS = frozenset({"side", "quantity", "fraction", "limit_price"})


def other_named(request: str) -> str | None:
    """The instrument a request names that is not one of the desk's: by a known name, as
    the symbol of a trade it writes ("buy 5 DOGE"), or a ticker written in capitals."""
    named = symbols_named(request) or named_bases(request)
    if named:
        return base_of(named[0])
    words = own_words(request)
    said = trades_said(words)
    if said:
        return said[0].symbol
    tickers = re.findall(r"(?<![\w/:])[A-Z]{2,6}(?![\w/])", words.text)
    return next((t for t in tickers if t not in _NOT_TICKERS), None)


def desk_bases(instrument_ids: Iterable[str]) -> tuple[str, ...]:
    """The bare bases of the desk's instruments (bitstamp:BTC/USD -> BTC), sorted."""
    return tuple(sorted({base_of(i) for i in instrument_ids}))


class KindAnswer(BaseModel):
    """The first call's answer, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RoutedKind


class RoutedIntent(BaseModel):
    """The model's answer, validated: a wrong type, a missing field, a negative or infinite
    number is a validation error the retry sends back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RoutedKind
    symbol: str | None = Field(max_length=16)
    side: Literal["buy", "sell"] | None
    quantity: float | None = Field(gt=0, allow_inf_nan=False)
    fraction: float | None = Field(gt=0, le=1, allow_inf_nan=False)
    limit_price: float | None = Field(gt=0, allow_inf_nan=False)
    strategy: StrategyName | None
    stage: Literal["paper", "live"] | None
    paper_trade: bool

    @model_validator(mode="before")
    @classmethod
    def _order_fields_only_for_orders(cls, data: Any) -> Any:
        # A size on a request that orders nothing ("flatten", fraction 0.0) is noise, not
        # a reason to throw the whole answer away; the fields must still be there.
        if isinstance(data, dict) and data.get("kind") not in _ORDER_KINDS:
            return {k: None if k in _ORDER_FIELDS and k in data else v for k, v in data.items()}
        return data

    def intent(self, request: str, bases: tuple[str, ...]) -> Intent:
        """As the desk's intent. `OTHER` becomes the instrument the request names (the desk
        then says it does not trade it); a symbol outside the enum is refused as invalid."""
        symbol = self.symbol
        if symbol is not None and symbol.upper() == OTHER:
            symbol = other_named(request)
        elif symbol is not None and base_of(symbol) not in bases:
            raise ValueError(f"symbol must be one of {[*bases, OTHER]} or null, not {symbol!r}")
        return Intent(
            kind=self.kind, symbol=symbol, side=self.side, quantity=self.quantity,
            fraction=self.fraction, limit_price=self.limit_price, strategy=self.strategy,
            stage=self.stage, paper_trade=self.paper_trade, router="llm",
        )  # fmt: skip


def _nullable(schema: dict[str, Any], description: str) -> dict[str, Any]:
    if schema == {"type": "null"}:
        return schema | {"description": description}
    return {"anyOf": [schema, {"type": "null"}], "description": description}


def _values(values: Iterable[float | Decimal]) -> dict[str, Any]:
    """Exactly these numbers, as JSON numbers the grammar can only copy; none: only null."""
    found = sorted({float(v) for v in values if v > 0})
    if not found:
        return {"type": "null"}
    return {"enum": [int(v) if v.is_integer() else v for v in found]}


def _fields(bases: tuple[str, ...], request: str) -> dict[str, Any]:
    # Quantities, prices and shares are the ones the user's own words write, and nothing
    # else: a number the model would make up ("buy 5 DOGE" read as 5%, "sell half" as 0.5
    # units) is not in the grammar at all, so it cannot be generated.
    own = own_words(request).text
    units = _values(numbers_in_text(own))
    return {
        "symbol": _nullable(
            {"type": "string", "enum": [*bases, OTHER]},
            f"the instrument the request names; {OTHER} if it is not one of these; null if none",
        ),
        "side": _nullable({"type": "string", "enum": ["buy", "sell"]}, "buy or sell, if said"),
        "quantity": _nullable(units, "units exactly as written in the request, else null"),
        "fraction": _nullable(
            _values(shares_written(own)),
            "a share the request names: half 0.5, 10% 0.1, all 1; else null",
        ),
        "limit_price": _nullable(units, "a price written in the request, else null"),
        "strategy": _nullable(
            {"type": "string", "enum": list(get_args(StrategyName))},
            "ts_momentum (momentum, trend), mean_reversion, donchian (breakout), "
            "sma_cross (moving-average crossover), ml_signal (machine learning)",
        ),
        "stage": _nullable({"type": "string", "enum": ["paper", "live"]}, "for promote"),
        "paper_trade": {
            "type": "boolean",
            "description": "true only when the request asks to paper-trade what research finds",
        },
    }


def _tool(title: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def kind_tool() -> dict[str, Any]:
    """The first call's schema (OpenAI function format): the kind alone."""
    kinds = list(get_args(RoutedKind))
    kind = {"type": "string", "enum": kinds}
    return _tool(KIND_TOOL, "The kind of desk request.", {"kind": kind})


def fields_tool(kind: str, bases: tuple[str, ...], request: str) -> dict[str, Any]:
    """The second call's schema for `request`: the fields `kind` takes, each required and
    nullable, its numbers those the request writes."""
    every = _fields(bases, request)
    return _tool(
        FIELDS_TOOL, f"The details of a {kind} request.", {f: every[f] for f in KIND_FIELDS[kind]}
    )


def routed(kind: str, fields: dict[str, Any]) -> RoutedIntent:
    """A kind and the fields the second call gave, as one validated answer: a field left
    out or one the kind does not take is invalid, as in the grammar."""
    expected = set(KIND_FIELDS.get(kind, ()))
    if set(fields) != expected:
        raise ValueError(f"{FIELDS_TOOL} for {kind} takes {sorted(expected)}, got {sorted(fields)}")
    return RoutedIntent.model_validate(NULL_ROUTE | fields | {"kind": kind})
