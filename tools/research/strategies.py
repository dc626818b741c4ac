"""The strategy library. A strategy turns bars into target weights (signed fraction of
equity) decided at each bar's close; the backtesters trade them at the next bar's open."""

from __future__ import annotations

from typing import Annotated, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.research.bars import BarSeries, Floats
from tools.research.indicators import log_returns, rolling_max, rolling_min, rolling_std, sma

Window = Annotated[int, Field(ge=1, le=100_000)]


class _Strategy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_short: bool = True

    def weights(self, bars: BarSeries) -> Floats:
        raise NotImplementedError

    def _clip(self, w: Floats) -> Floats:
        clean: Floats = np.asarray(np.nan_to_num(w, nan=0.0), dtype=np.float64)
        return clean if self.allow_short else np.maximum(clean, 0.0)


def hold_between_events(events: Floats) -> Floats:
    """+1/-1 on event bars, 0 elsewhere -> the last event's sign held forward (0 before)."""
    held = pd.Series(np.where(events != 0, events, np.nan)).ffill().fillna(0.0)
    return np.asarray(held, dtype=np.float64)


def crossover_events(fast: Floats, slow: Floats) -> Floats:
    """+1 where fast crosses above slow, -1 where below; strict on both bars, as
    backtesting.py's `crossover` (a touch followed by a cross is not a cross)."""
    events = np.zeros(len(fast))
    with np.errstate(invalid="ignore"):
        up = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    events[1:][up] = 1.0
    events[1:][down] = -1.0
    return events


class SmaCross(_Strategy):
    """Long after the fast SMA crosses above the slow one; short (or flat) after it crosses
    below."""

    kind: Literal["sma_cross"] = "sma_cross"
    fast: Window = 10
    slow: Window = 20

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self

    def weights(self, bars: BarSeries) -> Floats:
        events = crossover_events(sma(bars.close, self.fast), sma(bars.close, self.slow))
        return self._clip(hold_between_events(events))


class TimeSeriesMomentum(_Strategy):
    """The sign of the trailing `lookback`-bar return."""

    kind: Literal["ts_momentum"] = "ts_momentum"
    lookback: Window = 60

    def weights(self, bars: BarSeries) -> Floats:
        past = np.full(len(bars), np.nan)
        past[self.lookback :] = bars.close[: -self.lookback] if self.lookback < len(bars) else []
        return self._clip(np.sign(bars.close / past - 1.0))


class MeanReversion(_Strategy):
    """Z-score of close against its SMA (a Bollinger band): long below -entry_z, short
    above +entry_z, flat again once |z| is back inside exit_z."""

    kind: Literal["mean_reversion"] = "mean_reversion"
    window: Annotated[int, Field(ge=2, le=100_000)] = 20
    entry_z: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    exit_z: float = Field(default=0.5, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _exit_inside_entry(self) -> Self:
        if self.exit_z >= self.entry_z:
            raise ValueError("exit_z must be smaller than entry_z")
        return self

    def weights(self, bars: BarSeries) -> Floats:
        mean, std = sma(bars.close, self.window), rolling_std(bars.close, self.window)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(std > 0, (bars.close - mean) / std, np.nan)
        from tools.research.kernels import band_positions  # numba loads with the first run

        return self._clip(band_positions(z, self.entry_z, self.exit_z, self.allow_short))


class DonchianBreakout(_Strategy):
    """Long on a close above the prior `window`-bar high, short on a close below the prior
    low; held until the opposite breakout."""

    kind: Literal["donchian"] = "donchian"
    window: Window = 20

    def weights(self, bars: BarSeries) -> Floats:
        upper = np.roll(rolling_max(bars.high, self.window), 1)
        lower = np.roll(rolling_min(bars.low, self.window), 1)
        upper[0] = lower[0] = np.nan
        with np.errstate(invalid="ignore"):
            events = np.where(bars.close > upper, 1.0, np.where(bars.close < lower, -1.0, 0.0))
        return self._clip(hold_between_events(events))


class MlSignal(_Strategy):
    """Weights from a saved ML model (`tools.research.ml_model.save`): a directory, or a
    registered model by alias (`models:/mlp@champion`, tools/research/model_registry.py),
    resolved when the weights are computed, so promoting another version changes them."""

    kind: Literal["ml_signal"] = "ml_signal"
    model_dir: str = Field(min_length=1)

    def weights(self, bars: BarSeries) -> Floats:
        from pathlib import Path

        from tools.research import ml_model
        from tools.research.model_registry import ModelRegistry, is_alias_uri

        if is_alias_uri(self.model_dir):
            from core.settings import Settings

            directory = ModelRegistry(Settings()).resolve(self.model_dir)
        else:
            directory = Path(self.model_dir)
        model = ml_model.load(directory)
        return self._clip(model.weights(ml_model.features(bars)))


BaseStrategy = Annotated[
    SmaCross | TimeSeriesMomentum | MeanReversion | DonchianBreakout, Field(discriminator="kind")
]


class VolatilityTarget(_Strategy):
    """An overlay: scale a base strategy's weights so its ex-ante volatility is `target_vol`
    (annualised), using the trailing `window` bars, capped at `max_leverage`."""

    kind: Literal["vol_target"] = "vol_target"
    base: BaseStrategy
    target_vol: float = Field(default=0.15, gt=0, le=5, allow_inf_nan=False)
    window: Annotated[int, Field(ge=2, le=100_000)] = 20
    max_leverage: float = Field(default=2.0, gt=0, le=10, allow_inf_nan=False)
    periods_per_year: float = Field(default=252.0, gt=0, allow_inf_nan=False)

    def weights(self, bars: BarSeries) -> Floats:
        realised = rolling_std(log_returns(bars.close), self.window) * np.sqrt(
            self.periods_per_year
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.clip(
                np.where(realised > 0, self.target_vol / realised, 0.0), 0, self.max_leverage
            )
        return self._clip(self.base.weights(bars) * np.nan_to_num(scale))


Strategy = Annotated[
    SmaCross | TimeSeriesMomentum | MeanReversion | DonchianBreakout | VolatilityTarget | MlSignal,
    Field(discriminator="kind"),
]
