"""What the desk knows of each strategy, in one typed record: its kind and parameters, the
instrument it trades, every lifecycle step, the figures its backtest promised, and what it
has realised under its own id at the gate (position, PnL, fees, realised Sharpe)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.store import Store, TradeLog
from core.store.lifecycle_log import LifecycleLog, LifecycleStep
from gateway import GateLimits, Gateway
from tools.decay import realised_returns, sharpe
from tools.lifecycle import NoRiskClassError, risk_class


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class StageStep(_Out):
    stage: str
    actor: str
    reason: str
    ts: datetime


class BacktestFigures(_Out):
    """The research proposal's figures: walk-forward, out of sample unless named otherwise."""

    oos_sharpe: float | None = None
    in_sample_sharpe: float | None = None
    expected_max_drawdown: float | None = None
    expected_volatility: float | None = None
    trades: int | None = None
    folds: int | None = None


class RealisedFigures(_Out):
    """What the strategy's own fills have made (positions as the gate holds them)."""

    fills: int = 0
    quantity: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0
    unrealized_pnl: float = 0.0
    fees: float = 0.0
    days: int = Field(default=0, description="Daily returns since the first fill.")
    sharpe: float | None = Field(default=None, description="Realised Sharpe of those returns.")


class StrategyView(_Out):
    key: str = Field(description="The strategy's own id: the lifecycle's key and the gate's.")
    kind: str
    parameters: dict[str, Any]
    instrument: str
    stage: str
    updated: datetime
    risk_class: str | None = Field(description="The limits' class it trades under, if any.")
    trading_state: str | None = Field(description="Its own state at the gate, if registered.")
    history: list[StageStep]
    backtest: BacktestFigures
    realised: RealisedFigures


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _backtest(proposed: dict[str, Any]) -> BacktestFigures:
    return BacktestFigures(
        oos_sharpe=_float(proposed.get("oos_sharpe")),
        in_sample_sharpe=_float(proposed.get("in_sample_sharpe")),
        expected_max_drawdown=_float(proposed.get("expected_max_drawdown")),
        expected_volatility=_float(proposed.get("expected_volatility")),
        trades=_int(proposed.get("trades")),
        folds=_int(proposed.get("folds")),
    )


def _realised(store: Store, gateway: Gateway, key: str) -> RealisedFigures:
    if not gateway.has_strategy(key):
        return RealisedFigures()
    held = [p for p in gateway.positions() if p.strategy_id == key]
    returns = realised_returns(store, strategy_id=key)
    fills = TradeLog(store).fills(key)
    return RealisedFigures(
        fills=len(fills),
        quantity=sum(p.quantity for p in held),
        average_price=held[0].average_price if len(held) == 1 else 0.0,
        realized_pnl=sum(p.realized_pnl for p in held),
        unrealized_pnl=sum(p.unrealized_pnl for p in held),
        fees=sum(float(str(f["fee"])) for f in fills),
        days=len(returns),
        sharpe=sharpe(returns) if len(returns) >= 2 else None,
    )


def strategy_views(store: Store, limits: GateLimits, gateway: Gateway) -> list[StrategyView]:
    """Every strategy the lifecycle knows, the most recently moved first."""
    log = LifecycleLog(store)
    steps: dict[str, list[LifecycleStep]] = {}
    for step in log.steps():
        steps.setdefault(step.strategy_key, []).append(step)
    gate = {s.strategy_id: s for s in gateway.strategies()}
    views = []
    for status in log.latest():
        key = status.strategy_key
        history = steps.get(key, [])
        proposed = next((s.payload for s in reversed(history) if s.stage == "proposed"), {})
        spec = proposed.get("strategy")
        spec = spec if isinstance(spec, dict) else {}
        on_gate = gate.get(key)
        try:
            cls: str | None = on_gate.risk_class if on_gate else risk_class(limits, spec)
        except NoRiskClassError:
            cls = None
        views.append(
            StrategyView(
                key=key,
                kind=str(spec.get("kind", "")),
                parameters={k: v for k, v in spec.items() if k != "kind"},
                instrument=str(proposed.get("instrument", "")),
                stage=status.stage,
                updated=status.updated,
                risk_class=cls,
                trading_state=on_gate.state.value if on_gate else None,
                history=[
                    StageStep(stage=s.stage, actor=s.actor, reason=s.reason, ts=s.ts)
                    for s in history
                ],
                backtest=_backtest(proposed),
                realised=_realised(store, gateway, key),
            )
        )
    return views
