"""Trained models in MLflow's model registry (a real MLflow on SQLite under the desk's data
dir): each training is a new version with the alias `candidate`, an alias names the version
a strategy loads (`models:/mlp@champion`), moving the alias changes the strategy's weights,
and an unknown alias or version is refused with its name, the registry unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.store import MarketDataStore, Store
from interfaces.cli.app import app
from interfaces.cli.settings import get_settings
from tools.research import ml_model
from tools.research.agent_tools import ResearchTools, TrainModelRequest
from tools.research.bars import BarSeries
from tools.research.fill_model import Costs
from tools.research.model_registry import ModelRegistry, ModelRegistryError
from tools.research.strategies import MlSignal

COSTS = Costs(commission=0.001, lot=1)


def train(tools: ResearchTools, seed: int) -> str:
    trained = tools.train_model(
        TrainModelRequest(venue="nasdaq", symbol="GOOG", costs=COSTS, train_bars=1_000,
                          test_bars=500, folds=2,
                          config=ml_model.MlpConfig(epochs=2, hidden=8, seed=seed))
    )  # fmt: skip
    return trained.registered


def test_a_strategy_loads_the_version_its_alias_names(desk_env: Path, goog_raw: pd.DataFrame):
    settings = get_settings()
    bars = BarSeries.from_frame(goog_raw, "nasdaq", "GOOG", "1d")
    registry = ModelRegistry(settings)

    def predicted(uri: str) -> np.ndarray:
        return ml_model.load(registry.resolve(uri)).predict(ml_model.features(bars))

    with Store.open(settings) as store:
        store.migrate()
        MarketDataStore(store).write_bars(goog_raw)
        tools = ResearchTools(store, settings)
        first = train(tools, seed=1)
        from_first = predicted("models:/mlp@candidate")
        second = train(tools, seed=2)
    assert (first, second) == ("models:/mlp/1", "models:/mlp/2")
    assert registry.by_alias("mlp", "candidate").version == "2"  # the newest training
    from_second = predicted("models:/mlp@candidate")
    assert not np.array_equal(from_first, from_second)  # two seeds, two models
    # The second training overwrote the working folder; the registry kept version 1's files.
    registry.set_alias("mlp", "champion", "1")
    np.testing.assert_array_equal(predicted("models:/mlp@champion"), from_first)
    champion = MlSignal(model_dir="models:/mlp@champion")
    v1 = MlSignal(model_dir=str(registry.local_dir(registry.version("mlp", "1"))))
    np.testing.assert_array_equal(champion.weights(bars), v1.weights(bars))
    registry.set_alias("mlp", "champion", "2")
    np.testing.assert_array_equal(predicted("models:/mlp@champion"), from_second)
    assert registry.version("mlp", "2").aliases == ["candidate", "champion"]
    assert registry.version("mlp", "1").data_version == bars.data_version
    with pytest.raises(ModelRegistryError, match="no alias 'live'"):
        MlSignal(model_dir="models:/mlp@live").weights(bars)
    with pytest.raises(ModelRegistryError, match="no version 9"):
        registry.set_alias("mlp", "champion", "9")
    assert registry.by_alias("mlp", "champion").version == "2"  # the refusal moved nothing
    runner = CliRunner()
    listed = runner.invoke(app, ["research", "models", "mlp"])
    assert listed.exit_code == 0, listed.output
    assert "candidate, champion" in listed.output
    moved = runner.invoke(app, ["research", "alias", "mlp", "paper", "1"])
    assert moved.exit_code == 0, moved.output
    assert "models:/mlp@paper -> version 1" in moved.output
    refused = runner.invoke(app, ["research", "alias", "mlp", "paper", "7"])
    assert refused.exit_code == 2
    assert "no version 7" in refused.output
    assert registry.by_alias("mlp", "paper").version == "1"
