"""The committed cassettes replay the whole suite with the LLM router, offline: for each
model recorded under tests/cassettes/evals, with the router prompt of this checkout, every
request is answered from its cassette and every scenario ends as it did when recorded
against the real server. With no cassettes recorded, this fails: a missing recording is
never a skipped test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import prompts
from core.settings import Settings
from evals.cassettes import DEFAULT_ROOT, RECORD_HINT, CassetteMeta, path_part, read_meta, shelf
from evals.scenario import load_scenarios
from evals.suite import ScenarioResult, run_suite

VERSION = path_part(prompts.load("router")[0])
RECORDED = sorted(p.name for p in DEFAULT_ROOT.glob("*") if p.is_dir())
# One failing case when nothing is recorded (an empty parameter list would skip).
MODELS = [pytest.param(m, marks=pytest.mark.slow) for m in RECORDED] or [None]


def recorded(model_dir: str | None, tmp_path: Path) -> tuple[CassetteMeta, Settings]:
    """The model's recording for this router prompt, and the settings it was made with."""
    if model_dir is None:
        pytest.fail(f"no LLM cassettes under {DEFAULT_ROOT}: {RECORD_HINT}")
    folder = DEFAULT_ROOT / model_dir / VERSION
    if not (folder / "meta.json").is_file():
        pytest.fail(f"no cassettes for router prompt {VERSION} in {folder}: {RECORD_HINT}")
    meta = read_meta(folder)
    config = meta.settings(Settings(data_dir=tmp_path / "desk", log_json=False))
    assert shelf(DEFAULT_ROOT, config.llm_model) == folder, "meta.json names another model"
    return meta, config


def failures(results: list[ScenarioResult]) -> dict[str, dict[str, str]]:
    return {
        r.id: {c.name: c.detail[:300] for c in r.checks if not c.passed}
        for r in results
        if not r.passed
    }


@pytest.mark.parametrize("model_dir", MODELS)
def test_the_committed_cassettes_replay_the_whole_suite(model_dir: str | None, tmp_path: Path):
    meta, config = recorded(model_dir, tmp_path)
    scenarios = load_scenarios()
    suite = run_suite(scenarios, config, "llm", cassette_mode="replay", cassettes=DEFAULT_ROOT)
    assert len(suite.results) == len(scenarios)
    failed = failures(suite.results)
    # Every request is answered from the cassettes: none missing, none left unplayed.
    assert {i: f["cassette"] for i, f in failed.items() if "cassette" in f} == {}
    # The replay gives what the model gave when recorded, scenario by scenario: a change to
    # the desk that turns one of the model's passes into a failure (or a failure into a
    # pass nobody recorded) fails here. The recorded failures are the model's own; the
    # pass rates and each failure are in evals/RESULTS.md.
    assert {r.id: r.passed for r in suite.results} == meta.results, failed


@pytest.mark.parametrize("model_dir", MODELS)
def test_a_scenario_without_its_cassette_fails_and_the_others_replay(
    model_dir: str | None, tmp_path: Path
):
    meta, config = recorded(model_dir, tmp_path)
    assert model_dir is not None
    copy = tmp_path / "cassettes"
    shutil.copytree(DEFAULT_ROOT / model_dir, copy / model_dir)
    by_id = {s.id: s for s in load_scenarios()}
    # Two scenarios that passed when recorded; the first loses its cassette.
    removed, kept = [i for i, ok in meta.results.items() if ok and i in by_id][:2]
    (copy / model_dir / VERSION / f"{removed}.yaml").unlink()
    suite = run_suite(
        [by_id[removed], by_id[kept]], config, "llm", cassette_mode="replay", cassettes=copy
    )
    gone, replayed = suite.results
    failed = failures([gone])[removed]
    assert failed["cassette"].startswith(f"request missing from the cassette: {copy}")
    assert f"{removed}.yaml" in failed["cassette"]
    assert replayed.passed, failures([replayed])
