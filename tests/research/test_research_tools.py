"""Metrics, sweeps (kernel, processes, submitit), walk-forward, the ML model, tracking,
reports and the agent's tools, on real GOOG bars."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.settings import Settings
from core.store import MarketDataStore, Store
from tools.research import ml_model
from tools.research.agent_tools import (
    BacktestRequest,
    CompareRequest,
    ResearchTools,
    SweepRequest,
    TrainModelRequest,
    WalkForwardRequest,
)
from tools.research.backtesters import run_vectorised
from tools.research.bars import BarSeries, ResearchDataError
from tools.research.fill_model import Costs
from tools.research.metrics import compute_metrics, deflated_sharpe, round_trip_pnl
from tools.research.report import write_report
from tools.research.strategies import MlSignal, SmaCross
from tools.research.sweep import ParamGrid, run_sweep
from tools.research.sweep_kernel import sma_cross_sweep
from tools.research.walk_forward import WalkForwardConfig, walk_forward

COSTS = Costs(commission=0.001, lot=1)


@pytest.fixture(scope="module")
def goog(goog_raw: pd.DataFrame) -> BarSeries:
    return BarSeries.from_frame(goog_raw, "nasdaq", "GOOG", "1d")


def test_metrics_on_a_known_curve():
    ts = pd.date_range("2020-01-01", periods=5, freq="D", tz="UTC")
    equity = np.array([100.0, 110.0, 99.0, 121.0, 121.0])
    position = np.array([0.0, 1.0, 1.0, 0.0, 0.0])
    m = compute_metrics(equity, position, ts, traded_notional=200.0, fees=2.0, trades=2,
                        periods_per_year=252)  # fmt: skip
    assert m.total_return == pytest.approx(0.21)
    assert m.max_drawdown == pytest.approx(99 / 110 - 1)
    assert m.max_drawdown_bars == 1
    assert m.exposure == pytest.approx(0.4)
    returns = np.diff(equity) / equity[:-1]
    assert m.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(252))
    assert list(round_trip_pnl(equity, position)) == [21.0]
    assert m.hit_rate == 1.0


def test_deflated_sharpe_falls_as_trials_rise():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0005, 0.01, 2_000)
    trials = rng.normal(0.0, 0.02, 1_000)
    few, many = deflated_sharpe(returns, trials[:5]), deflated_sharpe(returns, trials)
    assert 0.0 <= many < few <= 1.0


def test_sweep_kernel_equals_the_vectorised_backtester(goog: BarSeries):
    pairs = [(5, 20), (10, 50), (20, 100), (3, 7)]
    frame = sma_cross_sweep(goog, pairs, COSTS, 10_000)
    for (fast, slow), row in zip(pairs, frame.itertuples(), strict=True):
        single = run_vectorised(goog, SmaCross(fast=fast, slow=slow), COSTS, 10_000)
        assert row.final_equity == pytest.approx(single.metrics.final_equity, rel=1e-12)
        assert row.trades == single.metrics.trades
        assert row.max_drawdown == pytest.approx(single.metrics.max_drawdown, rel=1e-9)
    with pytest.raises(ValueError, match="1 <= fast < slow"):
        sma_cross_sweep(goog, [(20, 10)], COSTS)


def test_sweep_backends_agree_and_the_best_is_deflated(goog: BarSeries, tmp_path: Path):
    grid = ParamGrid(kind="sma_cross", params={"fast": [5, 10, 30], "slow": [20, 30, 60]})
    strategies, refused = grid.expand()
    assert (len(strategies), refused) == (7, 2)
    serial = run_sweep(goog, strategies, COSTS, 10_000, backend="serial")
    processes = run_sweep(goog, strategies, COSTS, 10_000, backend="processes", workers=2)
    local = run_sweep(goog, strategies, COSTS, 10_000, backend="submitit", workers=2,
                      submitit_folder=tmp_path / "jobs", submitit_cluster="local")  # fmt: skip
    for other in (processes, local):
        assert list(other["sharpe"]) == list(serial["sharpe"])
    assert 0.0 <= serial.loc[0, "deflated_sharpe"] <= 1.0
    assert serial["deflated_sharpe"].iloc[1:].isna().all()
    with pytest.raises(ValueError, match="no valid sma_cross"):
        ParamGrid(kind="sma_cross", params={"fast": [50], "slow": [10]}).expand()


def test_walk_forward_reports_out_of_sample_beside_in_sample(goog: BarSeries):
    grid = ParamGrid(kind="sma_cross", params={"fast": [5, 10, 20], "slow": [30, 60]})
    candidates, _ = grid.expand()
    result = walk_forward(goog, candidates, COSTS, WalkForwardConfig(train_bars=500, test_bars=250))
    folds = result.folds
    assert len(folds) == (len(goog) - 500 - 250) // 250 + 1
    assert (folds["test_start"] > folds["train_end"]).all(), "test follows its training window"
    assert (folds["test_start"].iloc[1:].to_numpy() > folds["test_end"].iloc[:-1].to_numpy()).all()
    assert result.oos_equity.index[0] == folds["test_start"].iloc[0]
    assert result.out_of_sample.sharpe != pytest.approx(result.in_sample_mean_sharpe)
    with pytest.raises(ValueError, match="too few"):
        walk_forward(goog, candidates, COSTS, WalkForwardConfig(train_bars=2_000, test_bars=500))


def test_purged_kfold_keeps_labels_out_of_the_test_fold():
    folds = ml_model.purged_kfold(100, 5, purge=2, embargo=3)
    assert len(folds) == 5
    for train, test in folds:
        a, b = test[0], test[-1] + 1
        dropped = set(range(max(0, a - 2), min(100, b + 3)))
        assert not set(train) & dropped
        assert set(train) | dropped == set(range(100))
    with pytest.raises(ValueError, match="k >= 2"):
        ml_model.purged_kfold(10, 1)


def test_ml_model_trains_saves_loads_and_trades(goog: BarSeries, tmp_path: Path):
    config = ml_model.MlpConfig(epochs=5, hidden=8)
    x, y = ml_model.features(goog), ml_model.labels(goog)
    assert x.shape == (len(goog), len(ml_model.FEATURES))
    assert np.isnan(y[-2:]).all()
    model = ml_model.train(x[:1_000], y[:1_000], config)
    folder = ml_model.save(model, tmp_path / "mlp", {"data_version": goog.data_version})
    loaded = ml_model.load(folder)
    np.testing.assert_allclose(loaded.predict(x[1_000:]), model.predict(x[1_000:]), rtol=1e-6)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["data_version"] == goog.data_version
    assert meta["trained_on"] in ("cpu", "cuda")
    result = run_vectorised(goog, MlSignal(model_dir=str(folder)), COSTS, 10_000)
    assert result.metrics.trades > 0
    weights, folds = ml_model.walk_forward_weights(goog, config, train_bars=1_000, test_bars=500)
    assert (weights[:1_000] == 0).all()
    assert len(folds) == 3
    with pytest.raises(ValueError, match="usable rows"):
        ml_model.train(x[:30], y[:30], config)


def test_report_has_plots_tables_and_metrics(goog: BarSeries, tmp_path: Path):
    result = run_vectorised(goog, SmaCross(fast=10, slow=30), COSTS, 10_000)
    page = write_report(result, "GOOG sma", tmp_path / "report")
    html = page.read_text()
    for png in ("equity.png", "drawdown.png", "monthly_returns.png"):
        assert (tmp_path / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png in html
    assert "sharpe" in html
    assert f"{result.metrics.final_equity:,.4f}" in html
    assert html.count("<tr>") > len(result.trades)


def test_agent_tools_track_runs_and_refuse_bad_requests(
    store: Store, goog_raw: pd.DataFrame, tmp_path: Path
):
    MarketDataStore(store).write_bars(goog_raw)
    settings = Settings(data_dir=tmp_path / "desk")
    tools = ResearchTools(store, settings)
    summary = tools.backtest(
        BacktestRequest(
            venue="nasdaq",
            symbol="GOOG",
            strategy=SmaCross(fast=10, slow=30),
            costs=COSTS,
            cash=10_000,
        )
    )
    assert summary.engine == "event_driven"
    assert summary.gate_denied == 0
    assert summary.report is not None
    assert Path(summary.report).exists()
    run = tools.tracker.client.get_run(summary.run_id)
    assert run.data.params["fast"] == "10"
    assert run.data.metrics["final_equity"] == pytest.approx(summary.metrics.final_equity)
    assert len(run.data.tags["data_version"]) == 16
    assert run.data.tags["code_version"] != ""
    sweep = tools.sweep(
        SweepRequest(venue="nasdaq", symbol="GOOG", backend="serial", costs=COSTS,
                     grid=ParamGrid(kind="sma_cross", params={"fast": [5, 10], "slow": [30, 50]}))
    )  # fmt: skip
    assert sweep.trials == 4
    assert 0 <= sweep.deflated_sharpe <= 1
    wf = tools.walk_forward(
        WalkForwardRequest(venue="nasdaq", symbol="GOOG", costs=COSTS, train_bars=500,
                           test_bars=250,
                           grid=ParamGrid(kind="sma_cross", params={"fast": [5, 10], "slow": [30]}))
    )  # fmt: skip
    assert wf.folds == 6
    compared = tools.compare(
        CompareRequest(venue="nasdaq", symbol="GOOG", costs=COSTS,
                       strategies=[SmaCross(fast=5, slow=30), SmaCross(fast=10, slow=60)])
    )  # fmt: skip
    assert compared[0]["sharpe"] >= compared[1]["sharpe"]
    trained = tools.train_model(
        TrainModelRequest(venue="nasdaq", symbol="GOOG", costs=COSTS, train_bars=1_000,
                          test_bars=500, folds=3, config=ml_model.MlpConfig(epochs=3, hidden=8))
    )  # fmt: skip
    assert len(trained.cv) == 3
    assert all(0.3 < fold["accuracy"] < 0.7 for fold in trained.cv)
    assert (Path(trained.model_dir) / "metadata.json").exists()
    ml = tools.backtest(
        BacktestRequest(venue="nasdaq", symbol="GOOG", costs=COSTS, report=False,
                        strategy=MlSignal(model_dir=trained.model_dir))
    )  # fmt: skip
    assert ml.trades > 0
    with pytest.raises(ResearchDataError, match="unknown series"):
        tools.backtest(BacktestRequest(venue="nasdaq", symbol="MSFT", strategy=SmaCross()))
    with pytest.raises(ResearchDataError, match="empty date range"):
        tools.backtest(
            BacktestRequest(
                venue="nasdaq",
                symbol="GOOG",
                strategy=SmaCross(),
                start="2012-01-01",
                end="2011-01-01",
            )
        )
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        BacktestRequest.model_validate(
            {
                "venue": "nasdaq",
                "symbol": "GOOG",
                "strategy": {"kind": "sma_cross", "fast": -3, "slow": 10},
            }
        )
    with pytest.raises(ValidationError, match="must differ"):
        CompareRequest(venue="nasdaq", symbol="GOOG", strategies=[SmaCross(), SmaCross()])
