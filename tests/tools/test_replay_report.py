"""The replay's report (tools/replay): baselines that fill at the next open under the run's
costs, bootstrap intervals that are seeded and bracket their estimate, the bull/bear split,
an offline HTML report that says plainly when the desk lost to buy-and-hold, and the MLflow
run."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.settings import Settings
from tests.test_import_weight import loaded_after_import
from tools.replay.baselines import buy_and_hold, random_entries, simulate_slots, sma_rule
from tools.replay.metrics import (
    Bootstrap,
    BootstrapConfig,
    bootstrap_indices,
    day_counts,
    metric_arrays,
    regime_labels,
    resampled_metrics,
    series_metrics,
)
from tools.replay.models import (
    DayMark,
    DecisionRecord,
    FillRecord,
    LlmUsage,
    ReplayCosts,
    ReplayRun,
    StateChange,
    VerdictRecord,
)
from tools.replay.report import ReportConfig, write_report

START = date(2024, 1, 1)
COSTS = ReplayCosts(taker_fee_bps=10, slippage_bps=20, half_spread_bps=5, liquidity_fraction=0.25)
BUY = (1 + 5e-4) * (1 + 20e-4)  # the open moved against a buyer: half spread, then slippage
SELL = (1 - 5e-4) * (1 - 20e-4)
FEE = 10e-4
FAST = ReportConfig(resamples=200, random_seeds=20)


def bars_frame(opens: list[float], closes: list[float], start: date = START) -> pd.DataFrame:
    ts = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=len(closes), freq="D")
    return pd.DataFrame({"ts": ts, "open": opens, "high": np.maximum(opens, closes),
                         "low": np.minimum(opens, closes), "close": closes, "volume": 1.0})  # fmt: skip


def replay(
    universe: list[str], equity: list[float], *, cash: float = 10_000.0, costs: ReplayCosts = COSTS
) -> ReplayRun:
    marks = [
        DayMark(day=START + timedelta(days=i), equity=e, cash=e, gross=0.0, net=0.0, fees=0.0,
                traded_notional=0.0, trading_state="active")
        for i, e in enumerate(equity)
    ]  # fmt: skip
    at = datetime(2024, 1, 2, tzinfo=UTC)
    return ReplayRun(
        start=START, end=marks[-1].day, universe=universe, cash=cash, router="rules",
        approvals="approve-below-limit", marks=marks, costs=costs,
        fills=[FillRecord(at=at, order_id="o-1", strategy_id="ts_momentum-1",
                          instrument=universe[0], side="buy", quantity=0.5, price=101.0, fee=0.05)],
        verdicts=[VerdictRecord(at=at, order_id="o-1", instrument=universe[0], side="buy",
                                quantity=0.5, verdict="needs_approval", reasons=["approval_notional"],
                                approval="approved by policy")],
        decisions=[DecisionRecord(at=at, job="daily-review", request="rebalance <now>",
                                  trace=["pm", "risk"], answers=["held the book"], routed_by="rules")],
        llm=LlmUsage(calls=7, cached=3, prompt_tokens=4_321, completion_tokens=210, cost_usd=0.042),
    )  # fmt: skip


def walk(days: int, seed: int, drift: float = 0.0005, vol: float = 0.03) -> np.ndarray:
    return 100 * np.cumprod(1 + np.random.default_rng(seed).normal(drift, vol, days))


# --- baselines ---------------------------------------------------------------------------


def test_buy_and_hold_fills_at_the_next_open_with_the_runs_costs():
    opens = [95.0, 105.0, 125.0, 118.0, 150.0]  # never the previous close
    closes = [100.0, 110.0, 120.0, 130.0, 140.0]
    run = replay(["paper:AAA/USD"], [10_000.0] * 5)
    curve = buy_and_hold(run, {"paper:AAA/USD": bars_frame(opens, closes)})
    units = 10_000 / (105.0 * BUY * (1 + FEE))  # day 0's close decides, day 1's open fills
    assert curve.equity.iloc[0] == 10_000
    assert curve.equity.iloc[1] == pytest.approx(units * 110.0, rel=1e-12)
    assert curve.equity.iloc[4] == pytest.approx(units * 140.0, rel=1e-12)
    assert curve.traded.iloc[1] == pytest.approx(units * 105.0 * BUY, rel=1e-12)
    assert curve.traded.drop(curve.traded.index[1]).eq(0).all()
    # Not at day 0's close (100) nor day 1's close (110), which a look-ahead fill would use.
    assert curve.equity.iloc[4] != pytest.approx(10_000 / (100 * BUY * (1 + FEE)) * 140.0)
    assert curve.equity.iloc[4] != pytest.approx(10_000 / (110 * BUY * (1 + FEE)) * 140.0)


def test_a_sale_fills_at_the_next_open_there_is():
    opens = np.array([[95.0], [105.0], [125.0], [np.nan], [150.0]])  # no bar's open on day 3
    closes = np.array([[100.0], [110.0], [120.0], [130.0], [140.0]])
    target = np.array([True, True, False, False, False])[:, None, None]  # out at day 2's close
    equity, traded = simulate_slots(opens, closes, target, 1_000.0, COSTS)
    units = 1_000 / (105.0 * BUY * (1 + FEE))
    assert equity[3, 0] == pytest.approx(units * 130.0, rel=1e-12)  # still held: no open
    cash = units * 150.0 * SELL * (1 - FEE)
    assert equity[4, 0] == pytest.approx(cash, rel=1e-12)
    assert traded[:, 0].tolist() == pytest.approx([0, units * 105 * BUY, 0, 0, units * 150 * SELL])


def test_buy_and_hold_on_flat_prices_loses_exactly_the_costs():
    universe = ["paper:AAA/USD", "paper:BBB/USD", "paper:CCC/USD"]
    bars = {
        i: bars_frame([p] * 30, [p] * 30) for i, p in zip(universe, [50.0, 100.0, 7.0], strict=True)
    }
    curve = buy_and_hold(replay(universe, [10_000.0] * 30), bars)
    assert curve.equity.iloc[-1] == pytest.approx(10_000 / (BUY * (1 + FEE)), rel=1e-12)
    assert curve.equity.iloc[1:].nunique() == 1


def test_the_moving_average_rule_reads_history_before_the_run_and_trades_next_open():
    rising = list(np.linspace(50, 100, 60))
    history = bars_frame(rising, rising, START - timedelta(days=55))  # 55 days before START
    run = replay(["paper:AAA/USD"], [10_000.0] * 5)
    curve = sma_rule(run, {"paper:AAA/USD": history}, window=50)
    day1_open = rising[56]
    assert curve.equity.iloc[0] == 10_000
    assert curve.traded.iloc[1] == pytest.approx(10_000 / (1 + FEE))
    assert curve.equity.iloc[1] == pytest.approx(
        10_000 / (day1_open * BUY * (1 + FEE)) * rising[56]
    )
    # With too little history for the mean it stays in cash.
    short = sma_rule(run, {"paper:AAA/USD": history}, window=100)
    assert (short.equity == 10_000).all()
    assert short.traded.sum() == 0


def test_random_entries_are_seeded_and_report_their_band():
    universe = ["paper:AAA/USD", "paper:BBB/USD"]
    bars = {i: bars_frame(list(walk(200, k)), list(walk(200, k))) for k, i in enumerate(universe)}
    run = replay(universe, [10_000.0] * 200)
    a, b = random_entries(run, bars, seeds=11, seed=3), random_entries(run, bars, seeds=11, seed=3)
    other = random_entries(run, bars, seeds=11, seed=4)
    assert np.array_equal(a.final_returns, b.final_returns)
    assert not np.array_equal(a.final_returns, other.final_returns)
    assert a.median.equity.iloc[-1] / 10_000 - 1 == pytest.approx(np.median(a.final_returns))
    assert (a.band["q05"] <= a.band["q50"]).all()
    assert (a.band["q50"] <= a.band["q95"]).all()
    # Positions change only on the weekly tosses: trades fall on days 1, 8, 15, ...
    traded_days = np.flatnonzero(a.median.traded.to_numpy() > 0)
    assert set(traded_days % 7) <= {1}


# --- metrics ----------------------------------------------------------------------------


def test_bootstrap_intervals_bracket_the_estimate_and_are_seeded():
    days = pd.date_range("2020-01-01", periods=1_430, freq="D")
    equity = pd.Series(1_000 * walk(1_430, 7), index=days)
    traded = (equity.shift(1) * 0.05).fillna(0.0)  # 5% of the last close's equity a day
    config = BootstrapConfig(resamples=1_000, seed=11)
    first, again = series_metrics(equity, traded, config), series_metrics(equity, traded, config)
    other = series_metrics(equity, traded, config.model_copy(update={"seed": 12}))
    assert first == again
    assert first.sharpe.low != other.sharpe.low
    for name, interval in first:
        assert interval.low < interval.high, name
        # Turnover is near constant here: its bounds come from a matrix product, its value
        # from a mean, and the two roundings may differ in the last bits (they did in CI).
        slack = 1e-12 * max(1.0, abs(interval.value))
        assert interval.low - slack <= interval.value <= interval.high + slack, name
    assert first.total_return.value == pytest.approx(equity.iloc[-1] / equity.iloc[0] - 1)
    assert first.turnover.value == pytest.approx(0.05 * 365, rel=1e-9)


def test_bootstrap_matches_the_research_metrics_and_its_own_reference():
    from tools.research.metrics import compute_metrics

    days = pd.date_range("2020-01-01", periods=500, freq="D")
    equity = 1_000 * walk(500, 3)
    ours = series_metrics(pd.Series(equity, index=days), pd.Series(0.0, index=days))
    theirs = compute_metrics(equity, np.ones(500), days, 0.0, 0.0, 0, 365)
    assert ours.sharpe.value == pytest.approx(theirs.sharpe, rel=1e-9)
    assert ours.sortino.value == pytest.approx(theirs.sortino, rel=1e-9)
    assert ours.max_drawdown.value == pytest.approx(theirs.max_drawdown, rel=1e-12)
    assert ours.total_return.value == pytest.approx(theirs.total_return, rel=1e-12)
    # The fast resampled sums agree with walking every resampled path.
    returns = equity[1:] / equity[:-1] - 1
    rates = np.random.default_rng(0).random(len(returns))
    index = bootstrap_indices(len(returns), 300, 20, 5)
    fast = resampled_metrics(returns, rates, index, day_counts(index), 365)
    slow = metric_arrays(returns[index], rates[index], 365)
    for name, values in slow.items():
        assert fast[name] == pytest.approx(values, rel=1e-5, abs=1e-6), name


def test_stationary_bootstrap_draws_blocks():
    index = bootstrap_indices(1_000, 200, 20, 0)
    assert index.min() >= 0
    assert index.max() < 1_000
    follows = np.diff(index, axis=1) == 1
    assert 0.9 < follows.mean() < 0.97  # a new block starts on about 1 day in 20


def test_regime_labels_follow_the_moving_mean_as_known_that_day():
    days = pd.date_range("2024-01-01", periods=7, freq="D")
    index = pd.Series([10.0, 11, 12, 13, 9, 8, 12], index=days)
    labels = regime_labels(index, days, window=3)
    # means from day 2: 11, 12, 11.33, 10, 9.67
    assert labels.tolist() == ["unknown", "unknown", "bull", "bull", "bear", "bear", "bull"]
    equity = pd.Series([100.0, 101, 102, 103, 104, 105, 106], index=days)
    split = Bootstrap(BootstrapConfig(resamples=50)).regimes(equity, equity * 0, labels)
    # Each return is put under the label of the close before it.
    assert {k: v.days for k, v in split.items()} == {"bull": 2, "bear": 2, "unknown": 2}
    bull = split["bull"].metrics
    assert bull is not None
    assert bull.total_return.value == pytest.approx(103 / 102 * 104 / 103 - 1)


# --- report and tracking ------------------------------------------------------------------


@pytest.fixture
def losing_run() -> tuple[ReplayRun, dict[str, pd.DataFrame]]:
    """Two instruments that rise; the desk sits in cash and bleeds 10%."""
    universe = ["paper:AAA/USD", "paper:BBB/USD"]
    bars = {}
    for k, instrument in enumerate(universe):
        close = walk(700, k, drift=0.002, vol=0.02)
        bars[instrument] = bars_frame(list(close * 0.999), list(close), START - timedelta(days=300))
    equity = list(np.linspace(10_000, 9_000, 400))
    return replay(universe, equity), bars


def test_report_says_plainly_that_the_desk_lost_and_is_offline(losing_run, tmp_path):
    run, bars = losing_run
    summary = write_report(run, bars, tmp_path / "report", seed=1, config=FAST)
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert summary.verdict.startswith("The desk did worse than buy-and-hold: it returned -10.0%")
    assert not summary.beat_buy_and_hold
    assert summary.get("buy_and_hold").metrics.total_return.value > 0.5
    assert summary.excess_vs_buy_and_hold.value < 0
    assert "The desk did worse than buy-and-hold" in page
    assert not re.search(r"<script[^>]*\bsrc=", page), "scripts must be embedded, not fetched"
    assert "Plotly.newPlot" in page
    assert "rebalance &lt;now&gt;" in page  # every decision, escaped
    assert "approved by policy" in page
    assert "4,321" in page or "4321" in page
    saved = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert saved["verdict"] == summary.verdict
    assert [s["name"] for s in saved["series"]] == [
        "desk",
        "buy_and_hold",
        "sma_50",
        "random_median",
    ]
    # The bars cover every day and the desk starts at its cash: only how much it invested.
    assert [n[:29] for n in summary.notes] == ["The desk held 0.0% of its equ"]
    assert summary.regime_days["unknown"] == 0  # 300 days of history give the 200-day mean
    assert sum(summary.regime_days.values()) == len(run.marks) - 1


def test_report_falls_back_to_embedded_pngs_without_plotly(losing_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    run, bars = losing_run
    write_report(run, bars, tmp_path, config=FAST)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "Plotly.newPlot" not in page


@pytest.mark.slow  # a fresh SQLite tracking store migrates its schema (seconds)
def test_log_replay_records_params_metrics_and_the_report(losing_run, tmp_path):
    from mlflow.tracking import MlflowClient

    from tools.replay.tracking import log_replay

    run, bars = losing_run
    summary = write_report(run, bars, tmp_path / "report", config=FAST)
    settings = Settings(data_dir=tmp_path / "desk")
    run_id = log_replay(settings, run, summary, tmp_path / "report")
    client = MlflowClient(tracking_uri=settings.resolved_tracking_uri)
    logged = client.get_run(run_id)
    assert client.get_experiment(logged.info.experiment_id).name == "replay"
    assert logged.data.params["universe"] == "paper:AAA/USD,paper:BBB/USD"
    assert logged.data.params["approvals"] == "approve-below-limit"
    assert logged.data.params["costs.taker_fee_bps"] == "10.0"
    metrics = logged.data.metrics
    desk = summary.get("desk").metrics
    assert metrics["desk.total_return"] == pytest.approx(desk.total_return.value)
    assert metrics["buy_and_hold.sharpe_low"] == pytest.approx(
        summary.get("buy_and_hold").metrics.sharpe.low
    )
    assert metrics["llm.prompt_tokens"] == 4_321
    assert metrics["llm.cost_usd"] == pytest.approx(0.042)
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert artifacts == {"report.html", "summary.json"}


def test_the_report_modules_load_nothing_heavy():
    loaded = loaded_after_import("tools.replay.tracking")  # imports the report too
    assert not loaded & {"mlflow", "plotly", "matplotlib", "scipy", "chdb"}


def test_the_report_says_when_the_gate_stopped_the_desk_trading(tmp_path: Path) -> None:
    days = 40
    bars = {"x:BTC/USD": bars_frame(list(walk(days, 5)), list(walk(days, 5)))}
    run = replay(["x:BTC/USD"], [10_000.0] * days)
    marks = [m.model_copy(update={"trading_state": "reducing"}) if i >= 30 else m
             for i, m in enumerate(run.marks)]  # fmt: skip
    moved = StateChange(at=datetime(2024, 1, 31, tzinfo=UTC), scope="account", state="reducing",
                        actor="gate", reason="drawdown breaker")  # fmt: skip
    run = run.model_copy(update={"marks": marks, "states": [moved]})
    summary = write_report(run, bars, tmp_path / "report", config=FAST)
    [note] = [n for n in summary.notes if n.startswith("The gate's trading state")]
    assert "active 30, reducing 10" in note
    assert "2024-01-31 account reducing by gate (drawdown breaker)" in note
