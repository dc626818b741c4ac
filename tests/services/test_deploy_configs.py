"""The shipped Prometheus and Grafana files: valid, and naming only metrics the desk exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import core.telemetry  # noqa: F401 - registers the desk's metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def exported() -> set[str]:
    """Every series name the registry can export (a labelled metric has no samples until
    first used, so the names come from the metric families and their suffixes)."""
    names = set()
    for family in REGISTRY.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names |= {family.name + s for s in suffixes.get(family.type, [""])}
    return names


def test_every_dashboard_query_names_an_exported_metric():
    dashboard = json.loads((DEPLOY / "grafana" / "quantdesk.json").read_text())
    known = exported() | {"up"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"\b(quantdesk_[a-z_]+|up)\b", target["expr"]))
            assert used, panel["title"]
            assert used <= known, (panel["title"], used - known)


def promtool_check(what: str, path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus package) not installed")
    checked = subprocess.run(
        [promtool, "check", what, str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_scrape_config_is_valid():
    promtool_check("config", DEPLOY / "prometheus" / "prometheus.yml")


def test_the_alert_rules_are_valid_and_name_exported_metrics():
    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    used = set(re.findall(r"\b(quantdesk_[a-z_]+)\b", rules))
    assert {
        "quantdesk_llm_cost_usd_total",
        "quantdesk_agent_up",
        "quantdesk_llm_budget_spent_total",
    } <= used
    assert used <= exported(), used - exported()
    promtool_check("rules", DEPLOY / "prometheus" / "alerts.yml")
