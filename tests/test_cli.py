"""The `quantdesk` command line, run as a user would (Typer's runner, real store)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import get_settings
from deploy.neo4j import launcher
from interfaces.cli import app, startup
from tests.fakes.loopback import free_port

runner = CliRunner()


def test_load_status_quality(desk_env: Path):
    loaded = runner.invoke(app, ["data", "load", "goog", "eurusd"])
    assert loaded.exit_code == 0, loaded.output
    assert "2,148" in loaded.output
    assert "5,000" in loaded.output
    again = runner.invoke(app, ["data", "load", "goog"])
    assert again.exit_code == 0
    assert "2,148" in again.output  # now under "already held"
    status = runner.invoke(app, ["data", "status"])
    assert status.exit_code == 0
    assert "GOOG" in status.output
    assert "EUR/USD" in status.output
    quality = runner.invoke(app, ["data", "quality"])
    assert quality.exit_code == 0
    assert "gap" in quality.output


def test_unknown_dataset_and_broken_file_are_clear_errors(desk_env: Path, tmp_path: Path):
    unknown = runner.invoke(app, ["data", "load", "nyse"])
    assert unknown.exit_code == 2
    assert "unknown dataset" in unknown.output
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n1,2\n")
    refused = runner.invoke(
        app, ["data", "load", "--file", str(broken), "--venue", "v", "--symbol", "X/Y"]
    )
    assert refused.exit_code == 2
    assert "no timestamp column" in refused.output


def test_a_store_held_by_another_process_is_reported_not_crashed(desk_env: Path):
    from core.settings import get_settings

    dsn = get_settings().resolved_store_dsn
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; from core.store import Store; s = Store({dsn!r}); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        refused = runner.invoke(app, ["data", "status"])
        assert refused.exit_code == 2
        assert "store unavailable" in refused.output
        assert f"pid {holder.pid}" in refused.output
    finally:
        holder.communicate(input="", timeout=60)
    assert runner.invoke(app, ["data", "status"]).exit_code == 0


def test_gateway_limits_and_codes(desk_env: Path, tmp_path: Path):
    shown = runner.invoke(app, ["gateway", "limits"])
    assert shown.exit_code == 0, shown.output
    assert "bitstamp:BTC/USD" in shown.output
    codes = runner.invoke(app, ["gateway", "codes"])
    assert "NOTIONAL_EXCEEDS_MAX_PER_ORDER" in codes.output
    bad = tmp_path / "limits.yaml"
    bad.write_text("limits_version: x\n")
    refused = runner.invoke(app, ["gateway", "limits", "--file", str(bad)])
    assert refused.exit_code == 2
    assert "account_id: Field required" in refused.output


def test_demo_walks_orders_through_the_gate(desk_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUANTDESK_NEO4J_BOLT_PORT", str(free_port()))
    get_settings.cache_clear()
    # The local model's segment has tests of its own (tests/llm); here it would add a
    # 491 MB join and a minute of CPU generation.
    demo = runner.invoke(app, ["demo", "--no-model"])
    assert demo.exit_code == 0, demo.output
    assert "local model not run (--no-model)" in demo.output
    gate = demo.output.split("Pre-trade gate")[1]
    for expected in ("ACCEPT", "DENY", "NEEDS_APPROVAL", "PRICE_OUTSIDE_COLLAR", "filled"):
        assert expected in gate
    assert "position manual BTC/USD: 0.5" in gate
    cycle = demo.output.split("autonomous cycle")[1]
    assert "pm -> research -> judge -> risk" in cycle
    assert "waiting for approval" in cycle
    assert "quantdesk approvals approve" in cycle
    assert "report written" in cycle
    knowledge = demo.output.split("Knowledge graph")[1]
    assert "skipped" not in knowledge
    assert "strategies=1" in knowledge
    assert "correlated exposure: ['bitstamp:BTC/USD']" in knowledge
    assert "recall (" in knowledge
    assert not launcher.status(desk_env / "neo4j").running, "the demo stops the Neo4j it started"
    stream = " ".join(demo.output.split("Real-time market data")[1].split())
    assert "240 1h bars in ClickHouse, identical to the stored bars" in stream
    assert "240 bars heard on the bus" in stream


def test_research_commands_on_stored_bars(desk_env: Path):
    assert runner.invoke(app, ["data", "load", "goog"]).exit_code == 0
    common = ["--venue", "nasdaq", "--symbol", "GOOG"]
    done = runner.invoke(
        app, ["research", "backtest", *common, "--strategy", "sma_cross", "--param", "fast=10",
              "--param", "slow=30", "--lot", "1"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "final_equity" in done.output
    assert "report:" in done.output
    assert (desk_env / "reports").is_dir()
    swept = runner.invoke(
        app, ["research", "sweep", *common, "sma_cross", "--grid", "fast=5,10",
              "--grid", "slow=20,40", "--backend", "serial", "--lot", "1"],
    )  # fmt: skip
    assert swept.exit_code == 0, swept.output
    assert "4 tried" in swept.output
    assert "deflated Sharpe" in swept.output
    walked = runner.invoke(
        app, ["research", "walk-forward", *common, "sma_cross", "--grid", "fast=5,10",
              "--grid", "slow=40", "--lot", "1"],
    )  # fmt: skip
    assert walked.exit_code == 0, walked.output
    assert "Out of sample" in walked.output
    bad = runner.invoke(
        app, ["research", "backtest", *common, "--strategy", "sma_cross", "--param", "fast=-1"]
    )
    assert bad.exit_code == 2
    assert "greater than or equal to 1" in bad.output
    unknown = runner.invoke(
        app, ["research", "backtest", "--venue", "nasdaq", "--symbol", "MSFT", "--strategy",
              "sma_cross"],
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert "unknown series" in unknown.output


def test_ask_takes_a_router_and_says_which_one_decided(desk_env: Path):
    assert runner.invoke(app, ["data", "load", "crypto"]).exit_code == 0
    ruled = runner.invoke(app, ["ask", "what is our exposure?", "--router", "rules"])
    assert ruled.exit_code == 0, ruled.output
    assert "routed by rules" in ruled.output
    # No model is configured: asking for one is one clear line, exit 2, nothing runs.
    no_model = runner.invoke(app, ["ask", "what is our exposure?", "--router", "llm"])
    assert no_model.exit_code == 2
    assert "QUANTDESK_LLM_BASE_URL" in no_model.output
    assert "Traceback" not in no_model.output
    assert runner.invoke(app, ["ask", "hi", "--router", "gpt"]).exit_code == 2


def test_start_up_pauses_the_collector_and_freezes_only_in_a_process_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
):
    """interfaces/cli/startup.py: no collection while the desk loads, the collector put
    back after; run in process (these tests), nothing is frozen."""
    frozen = gc.get_freeze_count()
    with startup.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    gc.disable()
    try:
        with startup.collector_paused():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    monkeypatch.setattr(startup, "_own_process", True)
    try:
        with startup.collector_paused():
            kept = [object()]
        assert gc.get_freeze_count() > frozen
        assert kept
    finally:
        gc.unfreeze()
