"""The local server: loopback only, authenticated, restartable, and a clear error without Java."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from core.settings import Settings
from deploy.neo4j import launcher
from knowledge.graph.connection import GraphUnavailableError, KnowledgeGraph
from tests.fakes.loopback import free_port


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, read from the kernel's tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                found.add(address)
    return found


def test_bolt_listens_on_loopback_only(neo4j_data_dir: tuple[Path, int]):
    _, port = neo4j_data_dir
    # 127.0.0.1, as IPv4 or IPv4-mapped IPv6 (Java listens on a dual-stack socket); no other
    loopback = {"0100007F", "0000000000000000FFFF00000100007F"}
    found = listening_addresses(port)
    assert found
    assert found <= loopback


def test_factory_password_is_replaced(neo4j_data_dir: tuple[Path, int]):
    data_dir, port = neo4j_data_dir
    secret = launcher.password((data_dir / "neo4j").resolve())
    assert secret != "neo4j"
    assert len(secret) >= 24
    assert oct((data_dir / "neo4j" / "password").stat().st_mode)[-3:] == "600"
    factory = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "neo4j"))
    with factory as driver, pytest.raises(AuthError):
        driver.verify_connectivity()


def test_status_reports_the_running_server(neo4j_data_dir: tuple[Path, int]):
    data_dir, port = neo4j_data_dir
    shown = launcher.status(data_dir / "neo4j")
    assert shown.running
    assert shown.pid
    assert shown.uri == f"bolt://127.0.0.1:{port}"


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(launcher.Neo4jLaunchError, match="Java 17"):
        launcher.start(tmp_path / "neo4j", port=free_port())
    assert not (tmp_path / "neo4j" / "run" / "quantdesk-neo4j.pid").exists()


def test_no_server_configured_is_a_clear_error(tmp_path: Path):
    with pytest.raises(GraphUnavailableError, match="services up"):
        KnowledgeGraph.connect(Settings(data_dir=tmp_path))


def test_restart_keeps_the_graph(tmp_path: Path):
    home, port = tmp_path / "neo4j", free_port()
    settings = Settings(data_dir=tmp_path, neo4j_bolt_port=port)
    launcher.start(home, port=port)
    try:
        with KnowledgeGraph.connect(settings) as graph:
            graph.write("MERGE (:Venue {id: 'kept'})")
        assert launcher.stop(home)
        assert not launcher.status(home).running
        launcher.start(home, port=port)
        with KnowledgeGraph.connect(settings) as graph:
            assert graph.read("MATCH (v:Venue {id: 'kept'}) RETURN count(v) AS c") == [{"c": 1}]
    finally:
        launcher.stop(home)
    assert not launcher.stop(home)
