"""The market-data stream on this machine, with real parts: a Kafka 4.3.1 broker (KRaft, the
desk's launcher), the replay adapter's producer, and the Bytewax dataflow run as
`quantdesk agent stream` (its own process, recovery on, bars into an embedded ClickHouse).

1. throughput: N trades over several feeds, replayed as fast as the broker takes them; then
   the dataflow, bounded, turns them into 1-minute bars and stores them. Reported: the
   producer's rate, a bare confluent-kafka consumer reading the same records (the baseline),
   and the dataflow's rate, with and without its process start (an empty run's time).
2. latency: the dataflow tails the topics and publishes bars on the bus; trades are produced
   one per 5 ms with event time one second apart, so a bar closes every 60 trades. Timed from
   producing the trade that closes a bar (the first one past its end) to the bar arriving on
   the bus, in this process.

Goals (issue 20): 200k trades/s sustained; bar latency p99 <= 50 ms.
Run: uv run python -m benchmarks.stream_pipeline [--trades 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.timing import free_port
from core.bus import Bus, Keys
from core.bus.messages import BusMessage, MarketBar
from deploy.kafka import launcher
from tools.stream.messages import TradeBatchV1, TradeV1, encode
from tools.stream.replay import new_producer, produce, trade_batches_from_bars, trades_from_bars
from tools.stream.topics import StreamTopic, ensure_topics, instrument_key

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "LTC/USDT")


def _topics(bootstrap: str, partitions: int) -> tuple[str, str, str]:
    suffix = uuid.uuid4().hex[:8]
    made = (
        StreamTopic(
            name=f"b.trades.{suffix}", key="venue:symbol", partitions=partitions, retention_ms=-1
        ),
        StreamTopic(name=f"b.books.{suffix}", key="venue:symbol", partitions=1, retention_ms=-1),
        StreamTopic(name=f"b.dead.{suffix}", key="topic", partitions=1, retention_ms=-1),
    )  # fmt: skip
    ensure_topics(bootstrap, made)
    return made[0].name, made[1].name, made[2].name


def _bars(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {"ts": pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC"), "open": open_,
         "close": close, "high": np.maximum(open_, close) * 1.0005,
         "low": np.minimum(open_, close) * 0.9995, "volume": rng.uniform(1, 5, n)}
    )  # fmt: skip


def _stream(
    bootstrap: str, topics: tuple[str, str, str], work: Path, *extra: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QUANTDESK_KAFKA_BOOTSTRAP": bootstrap, "QUANTDESK_DATA_DIR": str(work)}
    command = [
        sys.executable, "-m", "interfaces.cli", "agent", "stream", "--snapshot-s", "1",
        "--recovery-dir", str(work / "recovery"), "--store-dsn", f"chdb://{work / 'store'}",
        *(arg for name in topics for arg in ("--topic", name)), *extra,
    ]  # fmt: skip
    # Output to a file: a pipe nobody reads fills up and stalls the flow at its next log line.
    log = (work / "stream.log").open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _bounded_run(bootstrap: str, topics: tuple[str, str, str], work: Path) -> float:
    began = time.perf_counter()
    done = _stream(bootstrap, topics, work, "--bounded", "--no-bus")
    if done.wait(timeout=1800) != 0:
        raise RuntimeError((work / "stream.log").read_text(errors="replace")[-2000:])
    return time.perf_counter() - began


def _bare_consume(bootstrap: str, topic: str, expected: int) -> float:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False,
         "enable.partition.eof": True}
    )  # fmt: skip
    meta = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in meta])
    began = time.perf_counter()
    seen = ended = 0
    while ended < len(meta):
        for message in consumer.consume(1000, 1.0):
            if message.error() is None:
                seen += 1
            else:
                ended += 1
    took = time.perf_counter() - began
    consumer.close()
    if seen != expected:
        raise RuntimeError(f"bare consumer read {seen} of {expected}")
    return took


def throughput(bootstrap: str, trades_wanted: int, batch: int) -> None:
    per_feed = trades_wanted // (4 * len(FEEDS))
    topics = _topics(bootstrap, partitions=len(FEEDS))
    producer = new_producer(bootstrap)
    sent = records = 0
    began = time.perf_counter()
    for seed, symbol in enumerate(FEEDS):
        args = (_bars(per_feed, seed), "binance", symbol, 60_000)
        made: list[TradeV1 | TradeBatchV1] = (
            list(trade_batches_from_bars(*args, size=batch))
            if batch > 1
            else list(trades_from_bars(*args))
        )
        records += len(made)
        sent += produce(producer, made, topic=topics[0]).trades
    produced_s = time.perf_counter() - began
    bare_s = _bare_consume(bootstrap, topics[0], records)
    with tempfile.TemporaryDirectory() as empty_dir, tempfile.TemporaryDirectory() as full_dir:
        empty = _topics(bootstrap, partitions=len(FEEDS))
        start_s = _bounded_run(bootstrap, empty, Path(empty_dir))
        flow_s = _bounded_run(bootstrap, topics, Path(full_dir))
    form = f"{batch} trades a record (trade_batch.v1)" if batch > 1 else "a record a trade"
    print(
        f"throughput: {sent:,} trades in {records:,} records ({form}), {len(FEEDS)} feeds, "
        f"{len(FEEDS)} partitions"
    )
    print(f"  adapter -> Kafka (producer, acks all, idempotent): {sent / produced_s:,.0f} trades/s")
    print(f"  bare consumer (baseline):                           {sent / bare_s:,.0f} trades/s")
    print(
        f"  dataflow -> bars in ClickHouse, whole run {flow_s:.1f} s: {sent / flow_s:,.0f} trades/s"
    )
    busy = max(flow_s - start_s, 1e-9)
    print(
        f"  the same less an empty run's {start_s:.1f} s (start, stop): {sent / busy:,.0f} trades/s"
    )
    print(f"  dataflow / bare consumer: {bare_s / busy:.2f}x of the baseline's rate")


def latency(bootstrap: str, bars_wanted: int) -> None:
    topics = _topics(bootstrap, partitions=1)
    port = free_port()
    hub = f"tcp/127.0.0.1:{port}"
    bus = Bus.open("router", listen=[hub])
    arrived: dict[int, float] = {}
    lock = threading.Lock()

    def on_bar(message: BusMessage, key: str) -> None:
        if isinstance(message, MarketBar):
            with lock:
                arrived.setdefault(int(message.bar_ts.timestamp()), time.perf_counter())

    bus.subscribe(Keys.ALL_MARKET_DATA, on_bar)
    producer = new_producer(bootstrap)
    closing_sent: dict[int, float] = {}
    closing_seq: dict[int, int] = {}
    heard: dict[int, float] = {}  # the bare consumer's receipt of each trade, by seq
    stop = threading.Event()
    hop = threading.Thread(target=_tail, args=(bootstrap, topics[0], heard, stop), daemon=True)
    hop.start()
    with tempfile.TemporaryDirectory() as work:
        os.environ["QUANTDESK_BUS_HUB"] = hub
        flow = _stream(bootstrap, topics, Path(work), "--lateness-s", "0")
        try:
            time.sleep(8)  # the flow's start: its consumer must be assigned before timing
            start_ms = 1_704_067_200_000
            for i in range(60 * (bars_wanted + 1) + 1):
                ts_ms = start_ms + i * 1000
                price = 100 + 0.01 * ((i * 7919) % 13)  # a quiet market: no outlier alerts
                trade = TradeV1(venue="binance", symbol="BTC/USDT", trade_id=str(i), seq=i,
                                ts_ms=ts_ms, price=price, quantity=1)  # fmt: skip
                if i and i % 60 == 0:
                    closing_sent[(ts_ms - 60_000) // 1000] = time.perf_counter()
                    closing_seq[(ts_ms - 60_000) // 1000] = i
                producer.produce(
                    topics[0], key=instrument_key("binance", "BTC/USDT"), value=encode(trade)
                )
                producer.flush(5)
                time.sleep(0.005)
            deadline = time.time() + 30
            while time.time() < deadline and len(arrived) < bars_wanted:
                time.sleep(0.1)
        finally:
            stop.set()
            flow.terminate()
            flow.wait(30)
            bus.close()
            hop.join(10)
    waits = sorted(
        (arrived[start] - sent) * 1000 for start, sent in closing_sent.items() if start in arrived
    )
    if len(waits) < bars_wanted // 2:
        raise RuntimeError(f"only {len(waits)} of {len(closing_sent)} bars arrived on the bus")
    p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))]
    print(f"latency: trade that closes a bar -> the bar on the bus, {len(waits)} bars")
    print(f"  p50 {statistics.median(waits):.1f} ms, p99 {p99:.1f} ms, max {waits[-1]:.1f} ms")
    hops = sorted(
        (heard[closing_seq[start]] - sent) * 1000
        for start, sent in closing_sent.items()
        if closing_seq[start] in heard
    )
    if hops:
        hop99 = hops[min(len(hops) - 1, int(0.99 * len(hops)))]
        print(
            f"  of which Kafka alone (a bare consumer tailing the topic in this process): "
            f"p50 {statistics.median(hops):.1f} ms, p99 {hop99:.1f} ms"
        )


def _tail(bootstrap: str, topic: str, heard: dict[int, float], stop: threading.Event) -> None:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False,
         "fetch.wait.max.ms": 1}
    )  # fmt: skip
    consumer.assign([TopicPartition(topic, 0, 0)])
    while not stop.is_set():
        # One message a call: consume(n, timeout) waits for n messages or the whole timeout.
        message = consumer.poll(0.05)
        value = None if message is None or message.error() else message.value()
        if value is not None:
            heard[int(value.split(b'"seq":')[1].split(b",")[0])] = time.perf_counter()
    consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--bars", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500, help="trades a record; 1: one each")
    parser.add_argument("--part", choices=("all", "throughput", "latency"), default="all")
    args = parser.parse_args()
    bootstrap = os.environ.get("QUANTDESK_KAFKA_BOOTSTRAP")
    home = None
    if not bootstrap:
        home = Path(tempfile.mkdtemp()) / "kafka"
        kafka_port = launcher.free_port_pair()
        bootstrap = launcher.start(home, port=kafka_port)
    try:
        if args.part in ("all", "throughput"):
            throughput(bootstrap, args.trades, args.batch)
        if args.part in ("all", "latency"):
            latency(bootstrap, args.bars)
    finally:
        if home is not None:
            launcher.stop(home)


if __name__ == "__main__":
    main()
