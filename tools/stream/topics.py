"""The desk's stream topics as typed config, and `ensure_topics`, which makes a Kafka-API cluster
hold them: missing ones are created with their partitions and retention (all or none), existing
ones are checked against the config and every difference is reported, never silently altered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

# confluent_kafka loads when a cluster is spoken to, not when the desk imports its topics.
if TYPE_CHECKING:
    from concurrent.futures import Future

    from confluent_kafka import KafkaError, Message, Producer
    from confluent_kafka.admin import AdminClient, TopicMetadata

    from core.settings import Settings
    from tools.stream.messages import Record

DAY_MS = 86_400_000


class CleanupPolicy(StrEnum):
    """Kafka's `cleanup.policy`: drop old segments, keep the latest record per key, or both."""

    delete = "delete"
    compact = "compact"
    compact_delete = "compact,delete"


class StreamTopic(BaseModel):
    """One topic the desk writes: its name, what its records are keyed by, and its layout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,249}$",
        description="Kafka's legal topic names; the desk's end in a schema version (`.v1`).",
    )
    key: str = Field(
        min_length=1,
        description="What a record's key is: records with one key keep their order, on one "
        "partition.",
    )
    partitions: int = Field(ge=1, le=10_000, description="Fixed at creation: more reshuffles keys.")
    retention_ms: int = Field(ge=-1, description="How long records are kept; -1: forever.")
    cleanup_policy: CleanupPolicy = CleanupPolicy.delete
    replication_factor: int | None = Field(
        default=None,
        ge=1,
        description="Copies of each partition. Unset: the cluster's default.replication.factor "
        "(1 on the local broker, usually 3 on a managed cluster).",
    )

    @field_validator("retention_ms")
    @classmethod
    def _keeps_something(cls, value: int) -> int:
        if value == 0:
            raise ValueError("retention_ms 0 drops records as they land; -1 keeps them forever")
        return value

    def kafka_config(self) -> dict[str, str]:
        """The topic-level configs the desk sets (the rest stay the cluster's defaults)."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy.value}


MD_TRADES = StreamTopic(
    name="md.trades.v1", key="venue:symbol", partitions=6, retention_ms=7 * DAY_MS
)
# Books churn far faster than trades and only recent ones matter for replays and checks.
MD_BOOKS = StreamTopic(name="md.books.v1", key="venue:symbol", partitions=6, retention_ms=DAY_MS)
# One partition: a person reads dead letters in the order they came.
MD_DEAD_LETTER = StreamTopic(
    name="md.dead-letter.v1", key="source topic", partitions=1, retention_ms=30 * DAY_MS
)
DESK_TOPICS: tuple[StreamTopic, ...] = (MD_TRADES, MD_BOOKS, MD_DEAD_LETTER)


def instrument_key(venue: str, symbol: str) -> bytes:
    """The key of a market-data record: the instrument id, `venue:symbol`."""
    return f"{venue}:{symbol}".encode()


def send_record(
    producer: Producer,
    topic: str,
    record: Record,
    on_delivery: Callable[[KafkaError | None, Message], None] | None = None,
) -> None:
    """Produce `record` keyed by its instrument; a full local queue waits for deliveries to
    drain it rather than drop the record."""
    from tools.stream.messages import encode

    key, value = instrument_key(record.venue, record.symbol), encode(record)
    while True:
        try:
            producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.05)


def local_broker_home(settings: Settings) -> Path:
    """Where `quantdesk services up` keeps the local broker (config, data, logs, cluster id)."""
    return (settings.data_dir / "kafka").resolve()


def bootstrap_servers(settings: Settings) -> str:
    """The cluster the desk streams to: QUANTDESK_KAFKA_BOOTSTRAP, else the local broker."""
    # The local broker listens on loopback only (deploy/kafka/launcher.py).
    return settings.kafka_bootstrap or f"127.0.0.1:{settings.kafka_port}"


class TopicProblem(BaseModel):
    """Why a topic is not as configured: a stable code (Kafka's error name where the cluster
    refused) and the detail."""

    model_config = ConfigDict(frozen=True)

    topic: str
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.topic}: {self.code}: {self.detail}"


class TopicSetupError(RuntimeError):
    """The cluster does not hold the topics as configured; `problems` lists every reason."""

    def __init__(self, problems: Sequence[TopicProblem]) -> None:
        self.problems = list(problems)
        super().__init__("stream topics not as configured:\n" + "\n".join(map(str, problems)))


class EnsuredTopics(BaseModel):
    created: list[str]
    verified: list[str]


def ensure_topics(
    bootstrap: str, topics: Sequence[StreamTopic] = DESK_TOPICS, timeout_s: float = 30.0
) -> EnsuredTopics:
    """Create the missing `topics` on the cluster at `bootstrap` and verify the existing ones.
    Nothing is created unless every missing topic would be accepted and every existing one
    matches; otherwise TopicSetupError lists each problem."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    names = [t.name for t in topics]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise TopicSetupError([TopicProblem(topic=n, code="DUPLICATE", detail="named twice")
                               for n in twice])  # fmt: skip
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        shown = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        problem = TopicProblem(topic="*", code="UNREACHABLE", detail=f"{bootstrap}: {exc}")
        raise TopicSetupError([problem]) from exc
    existing = [t for t in topics if t.name in shown.topics]
    missing = [t for t in topics if t.name not in shown.topics]
    problems = _differences(admin, existing, shown.topics, timeout_s)
    new = [
        NewTopic(t.name, num_partitions=t.partitions,
                 replication_factor=t.replication_factor or -1, config=t.kafka_config())
        for t in missing
    ]  # fmt: skip
    timeouts = {"request_timeout": timeout_s, "operation_timeout": timeout_s}
    if new:
        # Asked first without creating, so one bad topic leaves the cluster untouched.
        problems += _refusals(admin.create_topics(new, validate_only=True, **timeouts))
    if problems:
        raise TopicSetupError(problems)
    if new:
        refused = _refusals(admin.create_topics(new, **timeouts))
        if refused:
            raise TopicSetupError(refused)
    return EnsuredTopics(created=[t.name for t in missing], verified=[t.name for t in existing])


def _refusals(futures: dict[str, Future[None]]) -> list[TopicProblem]:
    from confluent_kafka import KafkaException

    problems = []
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0]
            problems.append(TopicProblem(topic=name, code=error.name(), detail=error.str()))
    return problems


def _differences(
    admin: AdminClient,
    existing: Sequence[StreamTopic],
    shown: dict[str, TopicMetadata],
    timeout_s: float,
) -> list[TopicProblem]:
    """Every way the existing topics differ from their config."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    if not existing:
        return []
    resources = {t.name: ConfigResource(ResourceType.TOPIC, t.name) for t in existing}
    described = admin.describe_configs(list(resources.values()), request_timeout=timeout_s)
    problems = []
    for topic in existing:
        metadata = shown[topic.name]
        found = len(metadata.partitions)
        if found != topic.partitions:
            problems.append(TopicProblem(
                topic=topic.name, code="PARTITIONS_DIFFER",
                detail=f"{found} partitions on the cluster, {topic.partitions} configured "
                "(adding partitions moves keys; change the topic's version instead)",
            ))  # fmt: skip
        replicas = {len(p.replicas) for p in metadata.partitions.values()}
        if topic.replication_factor is not None and replicas != {topic.replication_factor}:
            problems.append(TopicProblem(
                topic=topic.name, code="REPLICATION_DIFFERS",
                detail=f"replicas {sorted(replicas)} on the cluster, "
                f"{topic.replication_factor} configured",
            ))  # fmt: skip
        entries = described[resources[topic.name]].result()
        for config, wanted in topic.kafka_config().items():
            actual = entries[config].value if config in entries else None
            if actual != wanted:
                problems.append(TopicProblem(
                    topic=topic.name, code="CONFIG_DIFFERS",
                    detail=f"{config} is {actual} on the cluster, {wanted} configured",
                ))  # fmt: skip
    return problems
