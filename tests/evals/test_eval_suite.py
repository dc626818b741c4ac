"""The eval suite: every scenario loads and names its category; the whole suite runs with
the rule router in CI and passes; a misrouting router makes it fail; the graders can fail;
the LLM router's path records its exchanges (auth filtered) and replays them offline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import Settings
from evals.graders import match_trajectory, ungrounded_figures
from evals.harness import Observation, prepare_store, prepare_tracking, run_scenario
from evals.report import write_reports
from evals.scenario import Scenario, ScenarioError, load_scenarios
from evals.suite import run_suite
from graph.intents import Intent
from graph.routers import pick_router
from graph.rule_router import RuleRouter
from tests.fakes.openai_compat import serve_openai, tool_call_reply

CATEGORIES = {"routing", "tool_use", "risk_compliance", "approval_escalation",
              "missing_or_stale_data", "prompt_injection", "grounding", "cost_budget"}  # fmt: skip


def settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path / "desk", log_json=False, **extra)  # type: ignore[arg-type]


def test_every_scenario_loads_and_names_its_category():
    scenarios = load_scenarios()
    assert len(scenarios) >= 60
    by_category = {c: [s for s in scenarios if s.category == c] for c in CATEGORIES}
    assert all(len(found) >= 5 for found in by_category.values()), {
        c: len(v) for c, v in by_category.items()
    }


@pytest.mark.slow
def test_the_whole_suite_passes_with_the_rule_router(tmp_path: Path):
    scenarios = load_scenarios()
    suite = run_suite(scenarios, settings(tmp_path), RuleRouter())
    failed = {
        r.id: [c.detail for c in r.checks if not c.passed] for r in suite.results if not r.passed
    }
    assert failed == {}
    assert len(suite.results) == len(scenarios)
    json_path, html_path = write_reports(suite, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert set(data["by_category"]) == CATEGORIES
    assert data["pass_rate"] == 1.0
    assert "pass rate" not in html_path.read_text() or "By category" in html_path.read_text()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file's content and modification time, and every link's target."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = f"-> {path.readlink()}"
        elif path.is_file():
            found[key] = (
                f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mtime_ns}"
            )
    return found


def test_each_scenario_trades_on_a_store_of_its_own(tmp_path: Path):
    """Scenarios share the loaded template (hard-linked) and one MLflow store, never state:
    after a scenario bought 0.5 BTC, the next one's sale of 0.5 BTC opens a short from a flat
    book instead of closing that long, and the template is left as it was."""
    template = prepare_store(tmp_path)
    before = fingerprint(template)
    config = prepare_tracking(tmp_path, settings(tmp_path))
    [buy] = [s for s in load_scenarios() if s.id == "tool-buy-half-btc"]
    sell = Scenario.model_validate(
        {"id": "sell-half-btc", "category": "tool_use", "message": "sell 0.5 BTC", "expect": {}}
    )
    bought = run_scenario(buy, template, RuleRouter(), config)
    sold = run_scenario(sell, template, RuleRouter(), config)
    for seen in (bought, sold):
        assert seen.error is None
        assert seen.verdicts == ["ACCEPT"]
        assert {"order_filled", "position_opened"} <= seen.actions
    assert fingerprint(template) == before


class Misrouting(RuleRouter):
    """A deliberately broken router: risk questions go to execution's trade path and trades
    go to the risk agent."""

    name = "broken"

    def route(self, text: str) -> Intent:
        intent = super().route(text)
        if intent.kind in ("risk", "exposure", "positions"):
            return Intent(kind="health")
        if intent.kind == "trade":
            return Intent(kind="exposure")
        return intent


def test_a_misrouting_router_makes_the_suite_fail(tmp_path: Path):
    picked = {"route-exposure", "route-trade", "route-var", "tool-buy-half-btc", "route-health"}
    scenarios = [s for s in load_scenarios() if s.id in picked]
    suite = run_suite(scenarios, settings(tmp_path), Misrouting())
    failed = sorted(r.id for r in suite.results if not r.passed)
    assert failed == ["route-exposure", "route-trade", "route-var", "tool-buy-half-btc"]
    assert suite.pass_rate == pytest.approx(1 / 5)


def test_trajectory_matching_modes():
    ran = ["pm", "risk", "monitor", "report"]
    assert match_trajectory(ran, ["pm", "risk", "monitor", "report"], "strict")
    assert not match_trajectory(ran, ["pm", "monitor", "risk", "report"], "strict")
    assert match_trajectory(ran, ["pm", "monitor", "risk", "report"], "unordered")
    assert not match_trajectory(ran, ["pm", "risk", "report"], "unordered")
    assert match_trajectory(ran, ["risk", "pm"], "subset")
    assert not match_trajectory(ran, ["pm", "execution"], "subset")
    assert not match_trajectory(ran, ["risk", "risk"], "subset")


def test_grounding_catches_an_invented_figure():
    obs = Observation(
        answers=["equity 1,000,000, gross 57,746, VaR95 12,345, 45% in BTC, 0 open orders"],
        results={
            "q": {"risk": {"equity": 1_000_000.0, "gross": 57_746.21, "share": 0.45, "open": []}}
        },
        requests=["what is our exposure?"],
    )
    assert ungrounded_figures(obs) == ["12,345"]


def test_a_malformed_scenario_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text(
        "- id: x1y\n  category: vibes\n  message: hi\n  expect: {}\n"
    )
    with pytest.raises(ScenarioError, match=r"bad.yaml: scenario 1 \(x1y\): category"):
        load_scenarios(tmp_path)
    (tmp_path / "bad.yaml").write_text("- id: abc\n  category: routing\n  expect: {}\n")
    with pytest.raises(ScenarioError, match="needs a message or an objective"):
        load_scenarios(tmp_path)


def test_the_llm_router_records_its_exchanges_and_replays_them_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import evals.suite

    monkeypatch.setattr(evals.suite, "CASSETTES", tmp_path / "cassettes")
    scenario = Scenario.model_validate({
        "id": "llm-exposure", "category": "routing", "message": "how exposed are we?",
        "expect": {"agents": {"match": "strict", "sequence": ["pm", "risk"]}, "max_tokens": 500},
    })  # fmt: skip
    with serve_openai() as fake:
        fake.replies.append((200, tool_call_reply(json.dumps({"kind": "exposure"}))))
        config = settings(
            tmp_path, llm_base_url=fake.base_url, llm_model="qwen2.5-coder-0.5b-instruct",
            llm_api_key=SecretStr("sk-test-not-real"), llm_max_retries=0,
        )  # fmt: skip
        recorded = run_suite([scenario], config, pick_router("llm", config), cassette_mode="record")
    assert recorded.results[0].passed, recorded.results[0].checks
    assert recorded.results[0].tokens == 140
    [cassette] = (tmp_path / "cassettes").glob("*.yaml")
    assert "sk-test-not-real" not in cassette.read_text()
    assert "chat/completions" in cassette.read_text()
    # The server is gone: the replay answers from the cassette alone.
    replayed = run_suite([scenario], config, pick_router("llm", config), cassette_mode="replay")
    assert replayed.results[0].passed, replayed.results[0].checks
    assert replayed.results[0].trace == ["pm", "risk"]


@pytest.mark.parametrize(("score", "passed"), [(1.0, True), (0.0, False)])
def test_the_llm_judge_scores_the_rubric_when_a_model_is_configured(
    tmp_path: Path, score: float, passed: bool
):
    scenario = Scenario.model_validate({
        "id": "judged-exposure", "category": "grounding", "message": "how exposed are we?",
        "expect": {"rubric": "states gross and net exposure and the trading state"},
    })  # fmt: skip
    with serve_openai() as fake:
        fake.replies.append((200, tool_call_reply(json.dumps({"kind": "exposure"}))))
        verdict = {"score": score, "reason": "says gross, net and state" if passed else "vague"}
        fake.replies.append((200, tool_call_reply(json.dumps(verdict), name="RubricScore")))
        config = settings(
            tmp_path, llm_base_url=fake.base_url, llm_model="qwen2.5-coder-0.5b-instruct",
            llm_api_key=SecretStr("sk-test-not-real"), llm_max_retries=0,
        )  # fmt: skip
        suite = run_suite([scenario], config, pick_router("llm", config))
        judged = fake.requests[-1]
    [result] = suite.results
    [rubric] = [c for c in result.checks if c.name == "rubric (LLM judge)"]
    assert (rubric.passed, result.passed) == (passed, passed)
    assert rubric.detail.startswith(str(score))
    sent = judged["messages"][-1]["content"]
    assert "states gross and net exposure" in sent
    assert "gross" in sent
    assert judged["tool_choice"]["function"]["name"] == "RubricScore"
    assert suite.judge_tokens == 140
