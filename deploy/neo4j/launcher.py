"""Start, stop and inspect a local Neo4j 5.26 Community server, without Docker.

The server's jars come from Maven Central (`pom.xml` beside this file): Maven resolves them into
its local repository once (`prepare`), and the server runs `org.neo4j.server.CommunityEntryPoint`
on Java 17 with that classpath. Its home (config, data, logs, pid, password) lives under
`<data_dir>/neo4j`; Bolt listens on 127.0.0.1 only. Authentication stays on: on first start the
launcher replaces the default password with a random one kept in `<home>/password` (mode 0600).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.jvm import JvmError, cache_dir, find_java, resolve_classpath

# The driver loads when a server is started, not when the CLI starts.
if TYPE_CHECKING:
    from neo4j import Driver

NEO4J_VERSION = "5.26.30"
POM = Path(__file__).resolve().parent / "pom.xml"
MIN_JAVA = 17
DEFAULT_PASSWORD = "neo4j"  # noqa: S105 - Neo4j's factory default, replaced on first start


class Neo4jLaunchError(RuntimeError):
    """The local server could not be prepared, started or stopped; the message says why."""


@dataclass(frozen=True)
class Neo4jStatus:
    running: bool
    pid: int | None
    uri: str
    home: Path


def runtime_dir() -> Path:
    """Where the resolved classpath is cached, shared by every data directory."""
    return cache_dir(f"neo4j-{NEO4J_VERSION}")


def java_executable() -> str:
    """The `java` to run the server with (JAVA_HOME first), checked to be 17 or newer."""
    try:
        return find_java(
            MIN_JAVA,
            f"Neo4j {NEO4J_VERSION}",
            "run the local Neo4j server",
            "point NEO4J_URI at an existing Neo4j.",
        )
    except JvmError as exc:
        raise Neo4jLaunchError(str(exc)) from None


def prepare() -> str:
    """Resolve the server's jars through Maven (once) and return the classpath."""
    try:
        return resolve_classpath(
            POM,
            runtime_dir() / "classpath.txt",
            "the Neo4j server",
            "point NEO4J_URI at an existing Neo4j.",
        )
    except JvmError as exc:
        raise Neo4jLaunchError(str(exc)) from None


def _config(home: Path, port: int) -> str:
    return "\n".join(
        [
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{port}",
            "server.http.enabled=false",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.directories.data={home / 'data'}",
            f"server.directories.logs={home / 'logs'}",
            f"server.directories.run={home / 'run'}",
            "server.memory.pagecache.size=128m",
            "dbms.usage_report.enabled=false",
            "db.tx_log.rotation.retention_policy=100M size",
            "",
        ]
    )


def _pid(home: Path) -> int | None:
    pid_file = home / "run" / "quantdesk-neo4j.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip() or 0)
    try:
        # A server started by this process lingers as a zombie once it exits: reap it first.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return None
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    return pid


def password(home: Path) -> str:
    path = home / "password"
    if not path.exists():
        raise Neo4jLaunchError(f"No password at {path}: start the server with `services up`.")
    return path.read_text().strip()


def _bolt_port(home: Path) -> int:
    conf = (home / "conf" / "neo4j.conf").read_text()
    found = re.search(r"server\.bolt\.listen_address=127\.0\.0\.1:(\d+)", conf)
    if found is None:
        raise Neo4jLaunchError(f"{home}/conf/neo4j.conf names no Bolt port")
    return int(found.group(1))


def status(home: Path) -> Neo4jStatus:
    port = _bolt_port(home) if (home / "conf" / "neo4j.conf").exists() else 0
    pid = _pid(home)
    return Neo4jStatus(pid is not None, pid, f"bolt://127.0.0.1:{port}", home)


def _log_tail(home: Path) -> str:
    parts = []
    for name in ("console.log", "neo4j.log"):
        path = home / "logs" / name
        if path.exists():
            parts.append(f"--- {path}\n" + "\n".join(path.read_text().splitlines()[-15:]))
    return "\n".join(parts)


def _secure_password(uri: str, home: Path, deadline: float) -> None:
    """Replace the factory password once, so the server never runs with neo4j/neo4j."""
    if (home / "password").exists():
        return
    from neo4j import GraphDatabase

    chosen = secrets.token_urlsafe(24)
    with GraphDatabase.driver(uri, auth=("neo4j", DEFAULT_PASSWORD)) as driver:
        _wait_bolt(driver, home, deadline)
        driver.execute_query(
            "ALTER CURRENT USER SET PASSWORD FROM $old TO $new",
            old=DEFAULT_PASSWORD, new=chosen, database_="system",
        )  # fmt: skip
    path = home / "password"
    path.touch(mode=0o600)
    path.write_text(chosen)


def _wait_bolt(driver: Driver, home: Path, deadline: float) -> None:
    from neo4j.exceptions import AuthError, ServiceUnavailable

    while True:
        try:
            driver.verify_connectivity()
            return
        except AuthError:
            raise
        except (ServiceUnavailable, OSError) as exc:
            if _pid(home) is None:
                raise Neo4jLaunchError(f"Neo4j exited while starting.\n{_log_tail(home)}") from exc
            if time.monotonic() > deadline:
                raise Neo4jLaunchError(f"Neo4j not ready in time.\n{_log_tail(home)}") from exc
            time.sleep(0.25)


def start(home: Path, port: int = 7687, timeout_s: float = 120.0, heap: str = "512m") -> str:
    """Start the server under `home` (no-op when it already runs); return its Bolt URI once it
    answers queries with the desk's password."""
    from neo4j import GraphDatabase

    home = home.resolve()
    running = status(home)
    if running.running:
        return running.uri
    java = java_executable()
    classpath = prepare()
    for sub in ("conf", "data", "logs", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "conf" / "neo4j.conf").write_text(_config(home, port))
    console = (home / "logs" / "console.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [
            java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8",
            "-cp", classpath, "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={home}", f"--config-dir={home / 'conf'}",
        ],
        stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=home, start_new_session=True,
    )  # fmt: skip
    console.close()
    (home / "run" / "quantdesk-neo4j.pid").write_text(str(process.pid))
    uri = f"bolt://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        _secure_password(uri, home, deadline)
        with GraphDatabase.driver(uri, auth=("neo4j", password(home))) as driver:
            _wait_bolt(driver, home, deadline)
    except BaseException:
        stop(home)
        raise
    return uri


def stop(home: Path, timeout_s: float = 60.0) -> bool:
    """Stop the server under `home`; True when one was running."""
    home = home.resolve()
    pid = _pid(home)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _pid(home) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if _pid(home) is not None:
        os.killpg(pid, signal.SIGKILL)
    (home / "run" / "quantdesk-neo4j.pid").unlink(missing_ok=True)
    return True
