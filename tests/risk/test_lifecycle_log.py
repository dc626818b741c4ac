"""The `strategy_lifecycle` table's one module: typed rows for each step, each strategy's
latest step, the strategies now trading, and the promotions."""

from __future__ import annotations

from datetime import UTC

from core.store import Store
from core.store.lifecycle_log import LifecycleLog


def test_steps_latest_and_trading_read_back_what_was_appended(store: Store):
    log = LifecycleLog(store)
    log.append("a", "proposed", "research", "found", {"oos_sharpe": 1.5, "instrument": "x"})
    log.append("b", "proposed", "research", "found", {})
    log.append("a", "paper", "pm", "within policy", {"order": "o1"})
    assert log.stage("a") == "paper"
    assert log.stage("missing") == ""
    steps = log.steps()
    assert [(s.strategy_key, s.stage) for s in steps] == [
        ("a", "proposed"), ("b", "proposed"), ("a", "paper"),
    ]  # fmt: skip
    assert steps[0].payload == {"oos_sharpe": 1.5, "instrument": "x"}
    assert all(s.ts.tzinfo is UTC for s in steps)
    assert [s.stage for s in log.steps("a")] == ["proposed", "paper"]
    latest = log.latest()
    assert [(s.strategy_key, s.stage, s.actor) for s in latest] == [
        ("a", "paper", "pm"), ("b", "proposed", "research"),
    ]  # fmt: skip
    [trading] = log.trading()
    assert (trading.strategy_key, trading.stage) == ("a", "paper")
    assert trading.paper == {"order": "o1"}
    assert trading.proposed["oos_sharpe"] == 1.5
    assert log.promotions() == 1
