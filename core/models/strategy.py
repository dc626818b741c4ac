"""A strategy's definition, as research proposes it and the PM promotes it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from core.models.base import DomainModel, Identifier, PositiveFloat
from core.models.market import Interval


class StrategyStage(StrEnum):
    RESEARCH = "research"
    PAPER = "paper"
    LIVE = "live"
    RETIRED = "retired"


ParamValue = int | float | str | bool


class StrategySpec(DomainModel):
    """What a strategy trades, on what bars, with which parameters and capital."""

    strategy_id: Identifier
    kind: Identifier = Field(description="Library name, e.g. sma_crossover, ts_momentum.")
    instruments: tuple[Identifier, ...] = Field(min_length=1, description="`SYMBOL@venue` ids.")
    interval: Interval
    params: dict[str, ParamValue] = Field(default_factory=dict)
    capital: PositiveFloat
    risk_model: Identifier = "default"
    stage: StrategyStage = StrategyStage.RESEARCH
