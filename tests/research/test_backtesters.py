"""The two backtesters against each other and against backtesting.py, on real GOOG bars."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.store import MarketDataStore, Store
from tools.research.backtesters import backtest_limits, run_event_driven, run_vectorised
from tools.research.bars import BarSeries, ResearchDataError, load_bars
from tools.research.fill_model import Costs
from tools.research.strategies import (
    DonchianBreakout,
    MeanReversion,
    SmaCross,
    TimeSeriesMomentum,
    VolatilityTarget,
)


@pytest.fixture(scope="module")
def goog(goog_raw: pd.DataFrame) -> BarSeries:
    return BarSeries.from_frame(goog_raw, "nasdaq", "GOOG", "1d")


def test_sma_cross_matches_backtesting_py_trade_for_trade(goog: BarSeries):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import GOOG, SMA

    class PeerSmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, 10)
            self.slow = self.I(SMA, self.data.Close, 20)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()
                self.sell()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = Backtest(GOOG, PeerSmaCross, cash=10_000, commission=0.002).run()
    ours = run_vectorised(goog, SmaCross(fast=10, slow=20), Costs(commission=0.002, lot=1), 10_000)
    assert ours.metrics.final_equity == pytest.approx(peer["Equity Final [$]"], rel=0.005)
    peer_trades = peer._trades
    # Each peer trade opens where one of our position changes lands, with the same size.
    entries = dict(zip(ours.trades["bar"], ours.trades["position_after"], strict=True))
    for size, bar in zip(peer_trades["Size"], peer_trades["EntryBar"], strict=True):
        assert entries[bar] == size
    assert len(ours.trades) == len(peer_trades) + 1, "the last position is still open"


STRATEGIES = [
    SmaCross(fast=10, slow=30),
    TimeSeriesMomentum(lookback=40),
    MeanReversion(window=20, entry_z=1.5, exit_z=0.25),
    DonchianBreakout(window=30, allow_short=False),
    VolatilityTarget(base=SmaCross(fast=5, slow=40), target_vol=0.2),
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.kind)
def test_vectorised_and_event_driven_agree_when_the_gate_accepts_everything(
    goog: BarSeries, strategy
):
    costs = Costs(commission=0.001, slippage_bps=2.0, half_spread_bps=1.0, lot=1)
    vector = run_vectorised(goog, strategy, costs, 100_000)
    event = run_event_driven(goog, strategy, costs, 100_000)
    assert event.gate is not None
    assert event.gate.denied == 0
    assert event.gate.orders == len(vector.trades) > 0
    np.testing.assert_allclose(event.equity.to_numpy(), vector.equity.to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(event.position.to_numpy(), vector.position.to_numpy())


def test_gate_denials_show_in_the_event_driven_result(goog: BarSeries):
    costs = Costs(commission=0.001, lot=1)
    strategy = SmaCross(fast=10, slow=30)
    tight = backtest_limits(goog, costs, 100_000, max_position=150)
    free = run_event_driven(goog, strategy, costs, 100_000)
    limited = run_event_driven(goog, strategy, costs, 100_000, limits=tight)
    assert limited.gate is not None
    assert limited.gate.denied > 0
    assert limited.gate.denial_reasons == ("POSITION_LIMIT_INSTRUMENT",)
    assert np.abs(limited.position.to_numpy()).max() <= 150
    assert limited.metrics.final_equity != free.metrics.final_equity


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SmaCross(fast=-5, slow=20), "greater than or equal to 1"),
        (lambda: SmaCross(fast=30, slow=20), "must be shorter than slow"),
        (lambda: MeanReversion(entry_z=1.0, exit_z=2.0), "exit_z must be smaller"),
        (lambda: TimeSeriesMomentum(lookback=0), "greater than or equal to 1"),
        (lambda: Costs(commission=-0.1), "greater than or equal to 0"),
    ],
)
def test_bad_parameters_are_clear_errors(build, message: str):
    with pytest.raises(ValidationError, match=message):
        build()


def test_unknown_series_and_empty_ranges_are_clear_errors(store: Store, goog_raw: pd.DataFrame):
    MarketDataStore(store).write_bars(goog_raw)
    assert len(load_bars(store, "nasdaq", "GOOG", "1d", "2010-01-01", "2011-01-01")) == 252
    with pytest.raises(ResearchDataError, match="unknown series nasdaq NOPE 1d"):
        load_bars(store, "nasdaq", "NOPE", "1d")
    with pytest.raises(ResearchDataError, match="empty date range"):
        load_bars(store, "nasdaq", "GOOG", "1d", "2011-01-01", "2010-01-01")
    with pytest.raises(ResearchDataError, match="no nasdaq GOOG 1d bars in that range"):
        load_bars(store, "nasdaq", "GOOG", "1d", "1990-01-01", "1991-01-01")
