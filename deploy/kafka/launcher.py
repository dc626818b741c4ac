"""Start, stop and inspect a local one-node Apache Kafka 4.3 broker in KRaft mode, without Docker.

The broker's jars come from Maven Central (`pom.xml` beside this file): Maven resolves them into
its local repository once (`prepare`), and the broker runs `kafka.Kafka` on Java 17 with that
classpath, as broker and controller in one process (no ZooKeeper). Its home (config, data, logs,
pid, cluster id) lives under `<data_dir>/kafka`; the client listener is 127.0.0.1:<port> and the
controller's 127.0.0.1:<port + 1>. Topics are never created on first use: the desk creates them
with their partitions and retention (tools/stream/topics.py).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from deploy.jvm import JvmError, cache_dir, find_java, resolve_classpath

KAFKA_VERSION = "4.3.1"
POM = Path(__file__).resolve().parent / "pom.xml"
MIN_JAVA = 17
BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"
PID_FILE = "quantdesk-kafka.pid"
# The desk's stream needs few internal partitions; Kafka's 50 each cost seconds on two cores.
INTERNAL_TOPIC_PARTITIONS = 8


class KafkaLaunchError(RuntimeError):
    """The local broker could not be prepared, started or stopped; the message says why."""


@dataclass(frozen=True)
class KafkaStatus:
    running: bool
    pid: int | None
    bootstrap: str
    home: Path


def runtime_dir() -> Path:
    """Where the resolved classpath is cached, shared by every data directory."""
    return cache_dir(f"kafka-{KAFKA_VERSION}")


def java_executable() -> str:
    """The `java` to run the server with (JAVA_HOME first), checked to be 17 or newer."""
    try:
        return find_java(
            MIN_JAVA,
            f"Kafka {KAFKA_VERSION}",
            "run the local Kafka broker",
            "point QUANTDESK_KAFKA_BOOTSTRAP at an existing Kafka-API cluster.",
        )
    except JvmError as exc:
        raise KafkaLaunchError(str(exc)) from None


def prepare() -> str:
    """Resolve the server's jars through Maven (once) and return the classpath."""
    try:
        return resolve_classpath(
            POM,
            runtime_dir() / "classpath.txt",
            "the Kafka broker",
            "point QUANTDESK_KAFKA_BOOTSTRAP at an existing Kafka-API cluster.",
        )
    except JvmError as exc:
        raise KafkaLaunchError(str(exc)) from None


def bootstrap_address(port: int) -> str:
    """The client listener's address, as clients' `bootstrap.servers` names it."""
    return f"127.0.0.1:{port}"


def _server_properties(home: Path, port: int) -> str:
    controller = port + 1
    replicated_once = (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "default.replication.factor",
        "min.insync.replicas",
    )
    internal_partitions = (
        "offsets.topic.num.partitions",
        "transaction.state.log.num.partitions",
        "share.coordinator.state.topic.num.partitions",
    )
    return "\n".join(
        [
            "# Written by deploy/kafka/launcher.py on every start; edits are overwritten.",
            "process.roles=broker,controller",
            "node.id=1",
            # A static voter set: the quorum follows this file, so a new port is only a restart.
            f"controller.quorum.voters=1@127.0.0.1:{controller}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            f"log.dirs={home / 'data'}",
            # The desk names every topic it uses; a typo must fail, not create a topic.
            "auto.create.topics.enable=false",
            "num.partitions=1",
            *(f"{name}=1" for name in replicated_once),
            *(f"{name}={INTERNAL_TOPIC_PARTITIONS}" for name in internal_partitions),
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=4",
            "",
        ]
    )


def _log4j2_properties(home: Path) -> str:
    logs = home / "logs"
    return "\n".join(
        [
            "status = warn",
            # The broker flushes each line; log4j's own hook only races the JVM's exit.
            "shutdownHook = disable",
            "appender.server.type = RollingFile",
            "appender.server.name = server",
            f"appender.server.fileName = {logs / 'server.log'}",
            f"appender.server.filePattern = {logs / 'server.log.%i'}",
            "appender.server.layout.type = PatternLayout",
            "appender.server.layout.pattern = [%d] %p %m (%c)%n",
            "appender.server.policies.type = Policies",
            "appender.server.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.server.policies.size.size = 20MB",
            "appender.server.strategy.type = DefaultRolloverStrategy",
            "appender.server.strategy.max = 3",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.server.ref = server",
            # The state-change and request loggers are noisy at INFO and say little here.
            "logger.state.name = state.change.logger",
            "logger.state.level = WARN",
            "",
        ]
    )


def _new_cluster_id() -> str:
    """A cluster id as Kafka's `Uuid.randomUuid()` makes one: 16 random bytes, URL-safe base64
    without padding, never starting with '-' (the tools would read it as a flag)."""
    while True:
        made = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not made.startswith("-"):
            return made


def cluster_id(home: Path) -> str:
    """The cluster id the storage under `home` is formatted with, made and kept on first use."""
    path = home / "cluster-id"
    if not path.exists():
        # Storage formatted before the id was kept (or the file was lost) keeps its own id.
        meta = home / "data" / "meta.properties"
        found = re.search(r"^cluster\.id=(\S+)", meta.read_text() if meta.exists() else "", re.M)
        path.write_text(found.group(1) if found else _new_cluster_id())
    return path.read_text().strip()


def _pid(home: Path) -> int | None:
    pid_file = home / "run" / PID_FILE
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip() or 0)
    try:
        # A broker started by this process lingers as a zombie once it exits: reap it first.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return None
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    return pid


def _port(home: Path) -> int:
    conf = (home / "config" / "server.properties").read_text()
    found = re.search(r"^listeners=PLAINTEXT://127\.0\.0\.1:(\d+)", conf, re.MULTILINE)
    if found is None:
        raise KafkaLaunchError(f"{home}/config/server.properties names no client port")
    return int(found.group(1))


def status(home: Path) -> KafkaStatus:
    home = home.resolve()
    port = _port(home) if (home / "config" / "server.properties").exists() else 0
    pid = _pid(home)
    return KafkaStatus(pid is not None, pid, bootstrap_address(port), home)


def _log_tail(home: Path) -> str:
    parts = []
    for name in ("console.log", "server.log"):
        path = home / "logs" / name
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {path}\n" + "\n".join(lines))
    return "\n".join(parts)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _format_storage(java: str, classpath: str, home: Path) -> None:
    """Format the log directory once, with the kept cluster id (KRaft needs it before start)."""
    if (home / "data" / "meta.properties").exists():
        return
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            java, "-Xmx256m", f"-Dlog4j2.configurationFile={home / 'config' / 'log4j2.properties'}",
            "-cp", classpath, STORAGE_TOOL_MAIN, "format",
            "--config", str(home / "config" / "server.properties"),
            "--cluster-id", cluster_id(home), "--ignore-formatted",
        ],
        capture_output=True, text=True, timeout=300, check=False, cwd=home,
    )  # fmt: skip
    if done.returncode != 0:
        raise KafkaLaunchError(
            f"Formatting Kafka's storage under {home / 'data'} failed:\n"
            f"{(done.stdout + done.stderr)[-2000:]}"
        )


def _wait_ready(home: Path, port: int, deadline: float) -> None:
    """Wait until the broker serves metadata for our cluster with itself registered in it."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    expected = cluster_id(home)
    admin: AdminClient | None = None
    last = "the port did not accept connections"
    while True:
        if _pid(home) is None:
            raise KafkaLaunchError(f"Kafka exited while starting.\n{_log_tail(home)}")
        if time.monotonic() > deadline:
            raise KafkaLaunchError(f"Kafka not ready in time ({last}).\n{_log_tail(home)}")
        if admin is None and _listening(port):
            admin = AdminClient({"bootstrap.servers": bootstrap_address(port), "log_level": 3})
        if admin is not None:
            try:
                shown = admin.list_topics(timeout=2)
            except KafkaException as exc:
                last = str(exc)
            else:
                if shown.cluster_id != expected:
                    raise KafkaLaunchError(
                        f"127.0.0.1:{port} answers for cluster {shown.cluster_id}, not this "
                        f"broker's {expected}: another Kafka holds the port."
                    )
                if shown.brokers:
                    return
                last = "the broker has not registered with its controller yet"
        time.sleep(0.25)


def start(home: Path, port: int = 19092, timeout_s: float = 120.0, heap: str = "512m") -> str:
    """Start the broker under `home` (no-op when it already runs); return its bootstrap address
    once it serves metadata. The controller listens on `port + 1`."""
    home = home.resolve()
    running = status(home)
    if running.running:
        return running.bootstrap
    java = java_executable()
    classpath = prepare()
    busy = [p for p in (port, port + 1) if _listening(p)]
    if busy:
        raise KafkaLaunchError(
            f"Port {' and '.join(map(str, busy))} on 127.0.0.1 is already in use; the local Kafka "
            f"needs {port} (clients) and {port + 1} (controller). Set QUANTDESK_KAFKA_PORT, or "
            "QUANTDESK_KAFKA_BOOTSTRAP to use the Kafka that listens there."
        )
    for sub in ("config", "data", "logs", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "config" / "server.properties").write_text(_server_properties(home, port))
    (home / "config" / "log4j2.properties").write_text(_log4j2_properties(home))
    _format_storage(java, classpath, home)
    console = (home / "logs" / "console.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [
            java, "-Xms128m", f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8",
            f"-Dlog4j2.configurationFile={home / 'config' / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={home / 'logs'}",
            "-cp", classpath, BROKER_MAIN, str(home / "config" / "server.properties"),
        ],
        stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=home, start_new_session=True,
    )  # fmt: skip
    console.close()
    (home / "run" / PID_FILE).write_text(str(process.pid))
    try:
        _wait_ready(home, port, time.monotonic() + timeout_s)
    except BaseException:
        stop(home)
        raise
    return bootstrap_address(port)


def stop(home: Path, timeout_s: float = 60.0) -> bool:
    """Stop the broker under `home` (SIGTERM: a controlled shutdown; SIGKILL after `timeout_s`);
    True when one was running."""
    home = home.resolve()
    pid = _pid(home)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _pid(home) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid(home) is not None:
        os.killpg(pid, signal.SIGKILL)
        # Gone before returning, so a restart finds the ports free.
        while _pid(home) is not None and time.monotonic() < deadline + 10:
            time.sleep(0.1)
    (home / "run" / PID_FILE).unlink(missing_ok=True)
    return True


def free_port_pair() -> int:
    """A loopback port free now whose next port (the controller's) is free too."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
