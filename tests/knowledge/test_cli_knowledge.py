"""`quantdesk services|knowledge|memory` as a user runs them, pointed at a Neo4j by NEO4J_URI
(the path for any external server), with the store and memory under a fresh data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import get_settings
from deploy.neo4j import launcher
from interfaces.cli import app

runner = CliRunner()


@pytest.fixture
def external_neo4j(
    neo4j_data_dir: tuple[Path, int], desk_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    data_dir, port = neo4j_data_dir
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_PASSWORD", launcher.password((data_dir / "neo4j").resolve()))
    get_settings.cache_clear()
    return desk_env


def test_knowledge_commands(external_neo4j: Path):
    status = runner.invoke(app, ["services", "status"])
    assert "external" in status.output
    assert runner.invoke(app, ["data", "load", "crypto"]).exit_code == 0
    synced = runner.invoke(app, ["knowledge", "sync"])
    assert synced.exit_code == 0, synced.output
    assert "instruments=" in synced.output
    venue = runner.invoke(app, ["knowledge", "venue", "kraken"])
    assert "kraken:BTC/USD" in venue.output
    read = runner.invoke(
        app, ["knowledge", "cypher", "MATCH (v:Venue {id: 'kraken'}) RETURN v.id AS id"]
    )
    assert read.exit_code == 0
    assert "kraken" in read.output
    refused = runner.invoke(app, ["knowledge", "cypher", "MATCH (n) DETACH DELETE n"])
    assert refused.exit_code == 2
    assert "refused" in refused.output
    again = runner.invoke(app, ["knowledge", "venue", "kraken"])
    assert again.output == venue.output


def test_memory_commands(external_neo4j: Path):
    wrote = runner.invoke(
        app, ["memory", "remember", "kraken BTC fills were slow during the halt",
              "--collection", "incidents", "--instrument", "kraken:BTC/USD"],
    )  # fmt: skip
    assert wrote.exit_code == 0, wrote.output
    found = runner.invoke(
        app, ["memory", "recall", "slow executions on kraken", "--collection", "incidents"]
    )
    assert "kraken BTC fills were slow" in found.output
    bad = runner.invoke(app, ["memory", "recall", "x", "--collection", "passwords"])
    assert bad.exit_code == 2
    assert "refused" in bad.output


def test_no_neo4j_is_a_clear_error(desk_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    shown = runner.invoke(app, ["knowledge", "clusters"])
    assert shown.exit_code == 2
    assert "services up" in shown.output
