"""What a request asks the desk to do: one typed intent, whichever router produced it. The
intent model and its vocabulary live in core/models/intent.py, because the agents read the
routed intent from the graph state too (and agents import nothing from graph/); here is
what only the routers need: each kind's meaning, the acting kinds, the strategy names."""

from __future__ import annotations

from typing import Literal

from core.models.enums import RouterName
from core.models.intent import (
    Intent,
    IntentKind,
    Refusal,
    RefusedPart,
    RoutedKind,
)

__all__ = [
    "ACTING_KINDS",
    "KIND_MEANINGS",
    "Intent",
    "IntentKind",
    "Refusal",
    "RefusedPart",
    "RoutedKind",
    "RouterName",
    "StrategyName",
]

# What a router may classify a request as, each with its one-line meaning (the LLM router's
# prompt and tool schema are written from this table). `unknown` comes first: a request the
# desk cannot place is asked back, never guessed.
KIND_MEANINGS: dict[str, str] = {
    "unknown": "not a desk request, or too unclear to act on: the desk asks what is meant",
    "positions": "what the desk holds and its profit and loss (PnL)",
    "exposure": "gross and net exposure, by asset",
    "risk": "value at risk, expected shortfall, drawdown, volatility, limits, anomalies",
    "correlation": "how the returns of two or more assets move together",
    "price": "the latest price of an instrument",
    "tracking": "how a strategy's paper or live results track its backtest",
    "trade": "buy or sell an instrument: a quantity, or a percentage of the account",
    "close": "sell (or buy back) part or all of one holding: 'sell half our ETH'",
    "flatten": "close every position the desk holds",
    "cancel": "cancel the open (resting) orders",
    "halt": "stop all trading now: the kill switch",
    "resume": "resume trading after a halt (only a named human can re-arm)",
    "research": "find a strategy for an asset, optionally trade it on paper",
    "backtest": "backtest, sweep or walk-forward a named strategy",
    "promote": "promote a researched strategy to paper or to live trading",
    "report": "write the desk report",
    "data": "load, reload or check the quality of market data",
    "health": "whether the desk's services are up",
    "explain": "explain the desk's last decision",
}
# Kinds that move money or the trading state: a router may propose them only from the
# user's own words.
ACTING_KINDS = frozenset({"trade", "close", "flatten", "cancel", "halt"})
# The strategy families the research tools have (agents/research.py GRIDS, and ml_signal).
StrategyName = Literal["ts_momentum", "mean_reversion", "donchian", "sma_cross", "ml_signal"]
