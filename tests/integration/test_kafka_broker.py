"""The local Kafka broker (deploy/kafka) as the desk runs it: one real KRaft broker on a free
loopback port under a temp data dir, the desk's topics created as configured, a keyed record that
survives `services down` and `services up`, and topic configs the desk or the cluster refuses.

Like the Neo4j tests, these need Java 17 and Maven (`make test` installs both); without them
they fail with the launcher's message rather than skip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType
from pydantic import ValidationError
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from deploy.kafka import launcher
from interfaces.cli import app
from tests.fakes.loopback import free_port
from tests.kafka_fixtures import Broker, running_broker
from tests.knowledge.test_neo4j_launcher import listening_addresses
from tests.waiting import wait_until
from tools.stream.topics import (
    DESK_TOPICS,
    MD_TRADES,
    EnsuredTopics,
    StreamTopic,
    TopicSetupError,
    bootstrap_servers,
    ensure_topics,
    instrument_key,
)

runner = CliRunner()
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from running_broker(tmp_path_factory, "kafka-desk")


@pytest.fixture(scope="module")
def desk_topics(broker: Broker) -> EnsuredTopics:
    return ensure_topics(broker.bootstrap, DESK_TOPICS)


@pytest.fixture
def broker_cli(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    """The CLI pointed at the module's broker (its data dir and port), Neo4j external."""
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(broker.data_dir))
    monkeypatch.setenv("QUANTDESK_KAFKA_PORT", str(broker.port))
    monkeypatch.setenv("QUANTDESK_NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("QUANTDESK_LOG_JSON", "false")
    monkeypatch.delenv("QUANTDESK_KAFKA_BOOTSTRAP", raising=False)
    get_settings.cache_clear()
    yield broker
    get_settings.cache_clear()


def admin(broker: Broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def test_both_listeners_are_on_loopback_only(broker: Broker):
    for port in (broker.port, broker.port + 1):
        found = listening_addresses(port)
        assert found, f"nothing listens on {port}"
        assert found <= LOOPBACK


def test_status_reports_the_running_broker(broker: Broker):
    shown = launcher.status(broker.home)
    assert shown.running
    assert shown.pid
    assert shown.bootstrap == broker.bootstrap
    assert (broker.home / "data" / "meta.properties").exists()
    assert (
        launcher.cluster_id(broker.home) in (broker.home / "data" / "meta.properties").read_text()
    )


def test_the_desk_topics_are_created_as_configured(broker: Broker, desk_topics: EnsuredTopics):
    assert desk_topics.created == [t.name for t in DESK_TOPICS]
    again = ensure_topics(broker.bootstrap, DESK_TOPICS)
    assert (again.created, again.verified) == ([], [t.name for t in DESK_TOPICS])
    client = admin(broker)
    shown = client.list_topics(timeout=10).topics
    resources = [ConfigResource(ResourceType.TOPIC, t.name) for t in DESK_TOPICS]
    described = client.describe_configs(resources, request_timeout=10)
    for topic, resource in zip(DESK_TOPICS, resources, strict=True):
        assert len(shown[topic.name].partitions) == topic.partitions
        configs = described[resource].result()
        assert configs["retention.ms"].value == str(topic.retention_ms)
        assert configs["cleanup.policy"].value == topic.cleanup_policy.value


def test_the_broker_creates_no_topic_on_first_use(broker: Broker):
    topic = f"typo.{uuid.uuid4().hex}"
    produced: list[str] = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 3000})
    producer.produce(
        topic,
        b"x",
        on_delivery=lambda err, _msg: produced.append(err.name() if err else "delivered"),
    )
    producer.flush(10)
    # The producer asks the broker to create the topic; the broker declines, so it times out.
    assert produced == ["_MSG_TIMED_OUT"]
    client = admin(broker)
    assert topic not in client.list_topics(timeout=10).topics
    node = ConfigResource(ResourceType.BROKER, "1")
    configs = client.describe_configs([node], request_timeout=10)[node].result()
    assert configs["auto.create.topics.enable"].value == "false"


def produce(broker: Broker, topic: str, key: bytes, values: list[bytes]) -> int:
    """Write `values` under one key, acknowledged by the broker; return their partition."""
    delivered: list[Message] = []
    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "acks": "all", "partitioner": "murmur2_random"}
    )
    for value in values:
        producer.produce(topic, value, key, on_delivery=lambda err, msg: delivered.append(msg))
    assert producer.flush(30) == 0
    assert all(m.error() is None for m in delivered), [m.error() for m in delivered]
    partitions = {m.partition() for m in delivered}
    assert len(partitions) == 1, "one key, one partition"
    (partition,) = partitions
    assert partition is not None
    return partition


def read_partition(broker: Broker, topic: str, partition: int, count: int) -> list[Message]:
    """The first `count` records of one partition, read from its beginning."""
    consumer = Consumer(
        {"bootstrap.servers": broker.bootstrap, "group.id": f"test-{uuid.uuid4().hex}",
         "enable.auto.commit": False}
    )  # fmt: skip
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    read: list[Message] = []

    def more() -> bool:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            read.append(message)
        return len(read) >= count

    try:
        wait_until(
            more, timeout=60, what=f"{count} records on {topic}[{partition}]", show=read.__len__
        )
    finally:
        consumer.close()
    return read


def test_a_keyed_record_survives_services_down_and_up(
    broker_cli: Broker, desk_topics: EnsuredTopics
):
    key = instrument_key("bitstamp", "BTC/USD")
    values = [f'{{"px": 97000.5, "qty": 0.01, "seq": {i}}}'.encode() for i in range(3)]
    partition = produce(broker_cli, MD_TRADES.name, key, values)
    before = read_partition(broker_cli, MD_TRADES.name, partition, 3)
    assert [(m.key(), m.value()) for m in before] == [(key, v) for v in values]

    down = runner.invoke(app, ["services", "down"])
    assert down.exit_code == 0, down.output
    assert "kafka stopped" in down.output
    assert not launcher.status(broker_cli.home).running
    assert "kafka: stopped" in runner.invoke(app, ["services", "status"]).output
    up = runner.invoke(app, ["services", "up"])
    assert up.exit_code == 0, up.output
    assert f"kafka {launcher.KAFKA_VERSION} up at {broker_cli.bootstrap}" in up.output

    after = read_partition(broker_cli, MD_TRADES.name, partition, 3)
    assert [(m.key(), m.value(), m.offset()) for m in after] == [
        (m.key(), m.value(), m.offset()) for m in before
    ]
    shown = runner.invoke(app, ["services", "status"]).output
    assert f"kafka: running (pid {launcher.status(broker_cli.home).pid}) at " in shown


def test_an_external_cluster_is_not_started(broker_cli: Broker, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUANTDESK_KAFKA_BOOTSTRAP", "redpanda.internal:9092")
    get_settings.cache_clear()
    assert bootstrap_servers(get_settings()) == "redpanda.internal:9092"
    up = runner.invoke(app, ["services", "up"])
    assert up.exit_code == 0, up.output
    assert (
        "QUANTDESK_KAFKA_BOOTSTRAP is set (redpanda.internal:9092); no Kafka started" in up.output
    )
    status = runner.invoke(app, ["services", "status"])
    assert "kafka: external, redpanda.internal:9092" in status.output


def test_the_local_broker_is_the_default_bootstrap(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, kafka_port=19999)
    assert bootstrap_servers(settings) == "127.0.0.1:19999"


def test_zero_partitions_is_refused_before_the_cluster(broker: Broker):
    with pytest.raises(ValidationError, match="partitions"):
        StreamTopic(name="md.bad.v1", key="venue:symbol", partitions=0, retention_ms=1000)
    with pytest.raises(ValidationError, match="retention_ms 0"):
        StreamTopic(name="md.bad.v1", key="venue:symbol", partitions=1, retention_ms=0)


def test_a_topic_the_cluster_refuses_creates_nothing(broker: Broker):
    """One broker cannot hold three copies: the cluster refuses that topic, and the good one
    asked for with it is not created either."""
    suffix = uuid.uuid4().hex[:8]
    good = StreamTopic(
        name=f"md.good.{suffix}", key="venue:symbol", partitions=2, retention_ms=60_000
    )
    bad = good.model_copy(update={"name": f"md.triple.{suffix}", "replication_factor": 3})
    with pytest.raises(TopicSetupError) as refused:
        ensure_topics(broker.bootstrap, [good, bad])
    assert [(p.topic, p.code) for p in refused.value.problems] == [
        (bad.name, "INVALID_REPLICATION_FACTOR")
    ]
    assert "INVALID_REPLICATION_FACTOR" in str(refused.value)
    shown = admin(broker).list_topics(timeout=10).topics
    assert good.name not in shown
    assert bad.name not in shown


def test_an_existing_topic_that_differs_is_reported(broker: Broker):
    name = f"md.drift.{uuid.uuid4().hex[:8]}"
    made = StreamTopic(name=name, key="venue:symbol", partitions=2, retention_ms=60_000)
    assert ensure_topics(broker.bootstrap, [made]).created == [name]
    drifted = made.model_copy(update={"partitions": 4, "retention_ms": 120_000})
    with pytest.raises(TopicSetupError) as differs:
        ensure_topics(broker.bootstrap, [drifted])
    assert {p.code for p in differs.value.problems} == {"PARTITIONS_DIFFER", "CONFIG_DIFFERS"}
    message = str(differs.value)
    assert "2 partitions on the cluster, 4 configured" in message
    assert "retention.ms is 60000 on the cluster, 120000 configured" in message
    assert len(admin(broker).list_topics(timeout=10).topics[name].partitions) == 2


def test_an_unreachable_cluster_is_a_clear_error():
    with pytest.raises(TopicSetupError, match="UNREACHABLE"):
        ensure_topics(f"127.0.0.1:{free_port()}", DESK_TOPICS, timeout_s=2)


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(launcher.KafkaLaunchError, match="Java 17"):
        launcher.start(tmp_path / "kafka", port=free_port())
    assert not (tmp_path / "kafka" / "run" / launcher.PID_FILE).exists()
