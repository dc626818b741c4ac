"""The stream end to end with real parts: trades replayed into a real Kafka broker (KRaft,
deploy/kafka), the Bytewax dataflow run as `quantdesk agent stream` in its own process, bars
in an embedded ClickHouse store. Killed with SIGKILL at named points and restarted, it
stores exactly what a clean run stores: no bar lost, none doubled, none different.

Needs Java 17 and Maven, as the broker's own tests (`make test` installs both)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from confluent_kafka import Consumer, TopicPartition

from core.bus import Alert, Bus, Keys
from core.bus.messages import MarketBar
from tests.fakes.loopback import free_port
from tests.kafka_fixtures import Broker, running_broker
from tests.waiting import wait_until
from tools.stream.messages import TradeBatchV1, TradeV1
from tools.stream.replay import new_producer, produce, trades_from_bars
from tools.stream.topics import StreamTopic, ensure_topics, instrument_key

FEEDS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
BARS = 1_500  # per feed: 4 trades each, 18,000 trades in all
Sent = TradeV1 | TradeBatchV1
MALFORMED = [b"{not json", b'{"schema": "trade.v9"}', b'{"schema": "trade.v1", "price": "NaN"}']
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from running_broker(tmp_path_factory, "kafka-stream")


def stored_bars(feed_seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(feed_seed)
    ts = pd.date_range("2024-03-01", periods=BARS, freq="1min", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, BARS)))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {"ts": ts, "open": open_, "close": close,
         "high": np.maximum(open_, close) * 1.0005, "low": np.minimum(open_, close) * 0.9995,
         "volume": rng.uniform(1, 5, BARS)}
    )  # fmt: skip


def fill_topics(
    broker: Broker, prefix: str, records: Callable[[int, list[TradeV1]], list[Sent]]
) -> tuple[str, str, str]:
    """Fresh trades, books and dead-letter topics; the trades topic holds `records` of each
    feed's trades, then three unreadable records."""
    suffix = uuid.uuid4().hex[:8]
    made = (
        StreamTopic(
            name=f"{prefix}.trades.{suffix}", key="venue:symbol", partitions=3, retention_ms=-1
        ),
        StreamTopic(
            name=f"{prefix}.books.{suffix}", key="venue:symbol", partitions=1, retention_ms=-1
        ),
        StreamTopic(name=f"{prefix}.dead.{suffix}", key="topic", partitions=1, retention_ms=-1),
    )
    ensure_topics(broker.bootstrap, made)
    producer = new_producer(broker.bootstrap)
    for seed, symbol in enumerate(FEEDS):
        trades = list(trades_from_bars(stored_bars(seed), "binance", symbol, 60_000))
        produce(producer, records(seed, trades), topic=made[0].name)
    for payload in MALFORMED:
        producer.produce(made[0].name, key=instrument_key("binance", "BTC/USDT"), value=payload)
    producer.flush(30)
    return made[0].name, made[1].name, made[2].name


@pytest.fixture(scope="module")
def topics(broker: Broker) -> tuple[str, str, str]:
    """Every feed's trades a record each, one trade sent twice (a reconnecting adapter's
    repeat), and three unreadable records."""
    return fill_topics(broker, "t", lambda _, trades: [*trades[:100], trades[99], *trades[100:]])


@pytest.fixture(scope="module")
def batched_topics(broker: Broker) -> tuple[str, str, str]:
    """The same trades as `trade_batch.v1` records of up to 101 trades for the first two feeds
    (each batch after the first starts one trade back: a repeat), a record each for the last,
    and the same unreadable records."""

    def records(seed: int, trades: list[TradeV1]) -> list[Sent]:
        if seed == len(FEEDS) - 1:
            return list(trades)
        runs = [trades[:100], *(trades[k - 1 : k + 100] for k in range(100, len(trades), 100))]
        return [TradeBatchV1.of(run) for run in runs]

    return fill_topics(broker, "b", records)


def run_stream(
    broker: Broker,
    topics: tuple[str, str, str],
    work: Path,
    crash_at: str | None = None,
    bus: bool = False,
) -> int:
    env = {
        **os.environ,
        "QUANTDESK_KAFKA_BOOTSTRAP": broker.bootstrap,
        "QUANTDESK_DATA_DIR": str(work),
    }
    env.pop("QUANTDESK_CRASH_AT", None)
    if crash_at:
        env["QUANTDESK_CRASH_AT"] = crash_at
    command = [
        sys.executable, "-m", "interfaces.cli", "agent", "stream", "--bounded", "--bus" if bus else "--no-bus",
        "--snapshot-s", "0.05", "--recovery-dir", str(work / "recovery"),
        "--store-dsn", f"chdb://{work / 'store'}",
        *(arg for name in topics for arg in ("--topic", name)),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=300, check=False)
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr.decode()[-3000:] + done.stdout.decode()[-2000:])
    return done.returncode


def read_store(work: Path) -> pd.DataFrame:
    from core.store import Store

    store = Store(f"chdb://{work / 'store'}")
    try:
        return store.bulk.query_frame(
            "SELECT venue, symbol, interval, ts, open, high, low, close, volume FROM bars "
            "ORDER BY venue, symbol, ts",
            parameters={},
        )
    finally:
        store.close()


def checksum(frame: pd.DataFrame) -> str:
    return hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    ).hexdigest()


@pytest.fixture(scope="module")
def clean(
    broker: Broker, topics: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory
) -> pd.DataFrame:
    work = tmp_path_factory.mktemp("clean")
    assert run_stream(broker, topics, work) == 0
    return read_store(work)


def test_a_clean_run_stores_the_bars_the_trades_came_from(clean: pd.DataFrame):
    assert len(clean) == len(FEEDS) * BARS
    for seed, symbol in enumerate(FEEDS):
        got = clean[clean["symbol"] == symbol].reset_index(drop=True)
        want = stored_bars(seed)
        assert (got["interval"] == "1m").all()
        assert (got["ts"].to_numpy() == want["ts"].to_numpy()).all()
        for column in ("open", "high", "low", "close"):
            assert np.array_equal(got[column].to_numpy(), want[column].to_numpy()), column
        assert np.allclose(got["volume"], want["volume"], rtol=1e-12)


@pytest.mark.parametrize(
    "crashes",
    [["stream.decoded:9000"], ["stream.stored:3"], ["stream.decoded:3000", "stream.stored:2"]],
)
def test_killed_and_restarted_it_stores_what_a_clean_run_stores(
    broker: Broker, topics: tuple[str, str, str], clean: pd.DataFrame, tmp_path: Path,
    crashes: list[str],
):  # fmt: skip
    for point in crashes:
        assert run_stream(broker, topics, tmp_path, crash_at=point) == -signal.SIGKILL, point
    assert run_stream(broker, topics, tmp_path) == 0
    resumed = read_store(tmp_path)
    assert len(resumed) == len(clean)
    assert checksum(resumed) == checksum(clean)


@pytest.mark.parametrize("crashes", [[], ["stream.stored:2"], ["stream.decoded:70"]])
def test_batch_records_store_what_a_record_a_trade_stores_killed_or_not(
    broker: Broker, batched_topics: tuple[str, str, str], clean: pd.DataFrame, tmp_path: Path,
    crashes: list[str],
):  # fmt: skip
    for point in crashes:
        code = run_stream(broker, batched_topics, tmp_path, crash_at=point)
        assert code == -signal.SIGKILL, point
    assert run_stream(broker, batched_topics, tmp_path) == 0
    stored = read_store(tmp_path)
    assert len(stored) == len(clean)
    assert checksum(stored) == checksum(clean)


def test_a_restart_resumes_from_its_snapshot_rather_than_the_start(
    broker: Broker, topics: tuple[str, str, str], clean: pd.DataFrame, tmp_path: Path
):
    total = len(FEEDS) * (4 * BARS + 1) + len(MALFORMED)
    assert run_stream(broker, topics, tmp_path, crash_at="stream.decoded:12000") == -signal.SIGKILL
    # Re-reading from the first offset would pass the last record again and die there.
    assert run_stream(broker, topics, tmp_path, crash_at=f"stream.decoded:{total - 1000}") == 0
    assert checksum(read_store(tmp_path)) == checksum(clean)


def test_unreadable_records_go_to_the_dead_letter_topic_with_their_reason(
    broker: Broker, topics: tuple[str, str, str], clean: pd.DataFrame
):
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": uuid.uuid4().hex,
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topics[2], 0, 0)])
        letters = [m for m in iter(lambda: consumer.poll(5), None) if m.error() is None]
    finally:
        consumer.close()
    by_source = {dict(m.headers())["dlq.source"]: m for m in letters}  # replays repeat a letter
    assert len(by_source) == len(MALFORMED)
    assert sorted(m.value() for m in by_source.values()) == sorted(MALFORMED)
    reasons = sorted(dict(m.headers())["dlq.reason"].decode() for m in by_source.values())
    assert any("not JSON" in r for r in reasons)
    assert any("unknown schema" in r for r in reasons)
    assert any("trade.v1" in r for r in reasons)


def test_bars_and_findings_reach_the_bus(
    broker: Broker, topics: tuple[str, str, str], clean: pd.DataFrame, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):  # fmt: skip
    hub = f"tcp/127.0.0.1:{free_port()}"
    heard: list[MarketBar] = []
    alerts: list[Alert] = []
    with Bus.open("router", listen=[hub]) as bus:
        bus.subscribe(
            Keys.ALL_MARKET_DATA, lambda m, k: heard.append(m) if isinstance(m, MarketBar) else None
        )
        bus.subscribe(
            Keys.ALL_ALERTS, lambda m, k: alerts.append(m) if isinstance(m, Alert) else None
        )
        monkeypatch.setenv("QUANTDESK_BUS_HUB", hub)
        assert run_stream(broker, topics, tmp_path, bus=True) == 0
        wait_until(lambda: len(heard) >= len(clean), 20, what="every bar on the bus")
    on_bus = {(m.instrument, m.bar_ts, m.close) for m in heard}
    stored = {(f"{r.venue}:{r.symbol}", r.ts.to_pydatetime(), r.close) for r in clean.itertuples()}
    assert on_bus == stored
    repeats = [a for a in alerts if "repeated_record" in a.text]
    assert len({a.text for a in repeats}) == len(FEEDS)  # the one repeat sent on each feed
