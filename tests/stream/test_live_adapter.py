"""The live adapter (tools/stream/live_adapter.py) end to end with real parts: ccxt.pro's
Bitstamp client against a loopback server speaking Bitstamp's websocket v2 from recorded
frames (tests/fakes/bitstamp_ws.py), markets from the loopback REST fake, records into a real
Kafka broker (deploy/kafka). No byte leaves the machine.

Needs Java 17 and Maven, as the broker's own tests (`make test` installs both)."""

from __future__ import annotations

import asyncio
import copy
import random
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.fakes.bitstamp import FakeBitstamp, serve_bitstamp
from tests.fakes.bitstamp_ws import (
    FakeBitstampWs,
    recorded_book_tape,
    recorded_frames,
    serve_bitstamp_ws,
)
from tests.kafka_fixtures import Broker, running_broker
from tools.stream.live_adapter import (
    Backoff,
    Gap,
    GapReason,
    LiveStats,
    RedialSchedule,
    RefusalCode,
    _LiveSession,
    run_live,
    stream_live,
    trade_record,
)
from tools.stream.live_books import book_record
from tools.stream.messages import BookV1, TradeBatchV1, TradeV1, decode
from tools.stream.replay import new_producer
from tools.stream.topics import StreamTopic, ensure_topics, send_record

R = TypeVar("R", TradeV1, BookV1)
SYMBOLS = {"live_trades_btcusd": "BTC/USD", "live_trades_ethusd": "ETH/USD"}
# Deterministic and quick: no jitter, a twentieth of a second to redial.
QUICK = Backoff(initial_s=0.05, factor=2.0, cap_s=1.0, jitter=0.0, healthy_s=60.0)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from running_broker(tmp_path_factory, "kafka-live")


@pytest.fixture(scope="module")
def rest() -> Iterator[FakeBitstamp]:
    with serve_bitstamp() as fake:
        yield fake


def new_topic(broker: Broker) -> str:
    made = StreamTopic(
        name=f"t.live.{uuid.uuid4().hex[:8]}", key="venue:symbol", partitions=3, retention_ms=-1
    )
    ensure_topics(broker.bootstrap, [made])
    return made.name


@pytest.fixture
def topic(broker: Broker) -> str:
    return new_topic(broker)


def expected(frame: dict[str, Any]) -> tuple[str, str, int, float, float, str]:
    """What the record of a recorded frame must hold, read from the wire frame itself."""
    data = frame["data"]
    return (
        SYMBOLS[frame["channel"]],
        str(data["id"]),
        int(data["microtimestamp"]) // 1000,
        float(data["price_str"]),
        float(data["amount_str"]),
        "buy" if data["type"] == 0 else "sell",
    )


def held(record: TradeV1) -> tuple[str, str, int, float, float, str]:
    side = record.side or ""
    return (record.symbol, record.trade_id, record.ts_ms, record.price, record.quantity, side)


def by_feed(
    frames: list[dict[str, Any]],
) -> dict[str, list[tuple[str, str, int, float, float, str]]]:
    feeds: dict[str, list[tuple[str, str, int, float, float, str]]] = {}
    for frame in frames:
        feeds.setdefault(f"bitstamp:{SYMBOLS[frame['channel']]}", []).append(expected(frame))
    return feeds


def read_topic(bootstrap: str, topic: str, kind: type[R] = TradeV1) -> dict[str, list[R]]:  # type: ignore[assignment]
    """Every record on `topic` (each a `kind`), per key in partition order: read up to each
    partition's end."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in partitions}  # fmt: skip
        consumer.assign([TopicPartition(topic, p, 0) for p, end in ends.items() if end > 0])
        records: dict[str, list[R]] = {}
        left = sum(ends.values())
        while left:
            message = consumer.poll(10)
            assert message is not None, f"{left} record(s) never came"
            assert message.error() is None, message.error()
            record = decode(message.value())
            assert message.key() == record.key.encode()  # type: ignore[union-attr]
            # What one watch brought in several trades comes as one batch record.
            each = record.trades() if isinstance(record, TradeBatchV1) else [record]
            for one in each:
                assert isinstance(one, kind), one
                records.setdefault(one.key, []).append(one)
            left -= 1
        return records
    finally:
        consumer.close()


def stream(
    broker: Broker, rest: FakeBitstamp, topic: str, fake: FakeBitstampWs, max_records: int
) -> LiveStats:
    with serve_bitstamp_ws(fake) as ws:
        return run_live(
            "bitstamp", list(SYMBOLS.values()), new_producer(broker.bootstrap), topic,
            ws_url=ws.url, api_url=rest.api_url, max_records=max_records, backoff=QUICK,
        )  # fmt: skip


def assert_in_order_once(records: dict[str, list[TradeV1]], frames: list[dict[str, Any]]) -> None:
    """The topic holds each frame's trade once, in the venue's order, numbered 0, 1, 2, ..."""
    assert {k: [held(r) for r in v] for k, v in records.items()} == by_feed(frames)
    for feed in records.values():
        assert [r.seq for r in feed] == list(range(len(feed)))
        assert {r.venue for r in feed} == {"bitstamp"}


# -- without Kafka -------------------------------------------------------------------------


def test_a_ccxt_trade_becomes_a_trade_record(rest: FakeBitstamp) -> None:
    """ccxt's own parser reads the recorded frames; the mapping keeps the venue's id, the
    trade's time, price, size and side, and numbers it with the feed's count."""
    import ccxt.pro

    frames = recorded_frames()
    buy = next(f for f in frames if f["data"]["type"] == 0)
    sell = next(f for f in frames if f["data"]["type"] == 1)

    async def parsed() -> list[dict[str, Any]]:
        exchange = ccxt.pro.bitstamp({"urls": {"api": {"public": rest.api_url}}})
        try:
            await exchange.load_markets()
            return [
                exchange.parse_ws_trade(f["data"], exchange.market(SYMBOLS[f["channel"]]))
                for f in (buy, sell)
            ]
        finally:
            await exchange.close()

    trades = asyncio.run(parsed())
    records = [trade_record("bitstamp", t, seq) for seq, t in zip((0, 7), trades, strict=True)]
    assert [held(r) for r in records] == [expected(buy), expected(sell)]
    assert [r.seq for r in records] == [0, 7]
    assert records[0].key == f"bitstamp:{SYMBOLS[buy['channel']]}"
    broken: list[tuple[dict[str, Any], str]] = [
        ({"price": None}, "price"), ({"timestamp": 0}, "ts_ms"), ({"id": None}, "trade_id"),
        ({"amount": float("nan")}, "quantity"), ({"side": "short"}, "side"),
    ]  # fmt: skip
    for change, field in broken:
        with pytest.raises(ValueError, match=field):
            trade_record("bitstamp", {**trades[0], **change}, 1)


def test_the_backoff_doubles_to_its_cap_and_jitter_only_shortens_it() -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, cap_s=8.0, jitter=0.25)
    assert [backoff.delay_s(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.delay_s(3, draw=0.999) == pytest.approx(4.0 * 0.75, rel=1e-3)
    assert backoff.delay_s(10_000, draw=0.5) == 8.0 * (1 - 0.25 * 0.5)  # no overflow


def test_the_redial_count_starts_over_only_after_a_healthy_stream() -> None:
    schedule = RedialSchedule(Backoff(initial_s=1.0, cap_s=30.0, jitter=0.0, healthy_s=60.0))
    assert [schedule.broke(now) for now in (0.0, 1.0, 3.0)] == [1.0, 2.0, 4.0]
    schedule.up(10.0)
    assert schedule.broke(30.0) == 8.0  # up 20 s: not yet healthy
    schedule.up(40.0)
    schedule.up(70.0)  # still the same stretch: it began at 40
    assert schedule.broke(100.0) == 1.0  # up 60 s: the count starts over
    assert schedule.broke(101.0) == 2.0


def test_the_fake_answers_as_bitstamp_does() -> None:
    import aiohttp

    async def talk(url: str) -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_json({"event": "bts:heartbeat"})
            heartbeat = await ws.receive_json(timeout=5)
            await ws.send_json(
                {"event": "bts:subscribe", "data": {"channel": "live_trades_btcusd"}}
            )
            subscribed = await ws.receive_json(timeout=5)
            return [heartbeat, subscribed]

    with serve_bitstamp_ws(FakeBitstampWs(frames=recorded_frames()[:3])) as fake:
        replies = asyncio.run(talk(fake.url))
    assert replies == [
        {"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}},
        {"event": "bts:subscription_succeeded", "channel": "live_trades_btcusd", "data": {}},
    ]
    assert fake.heartbeats == 1


# -- with Kafka ----------------------------------------------------------------------------


def test_trades_arrive_in_order_with_the_venues_ids_and_prices(
    broker: Broker, rest: FakeBitstamp, topic: str
) -> None:
    frames = recorded_frames()
    fake = FakeBitstampWs(frames=frames)
    stats = stream(broker, rest, topic, fake, max_records=len(frames))
    assert_in_order_once(read_topic(broker.bootstrap, topic), frames)
    assert stats.stop_reason == "max_records"
    assert stats.records == len(frames)
    assert (stats.reconnects, stats.gaps, stats.refusals, stats.duplicates) == ([], [], [], 0)
    assert stats.per_feed == {k: len(v) for k, v in by_feed(frames).items()}
    assert fake.connections == 1
    assert sorted(fake.subscriptions) == sorted(SYMBOLS)


def test_several_trades_of_one_watch_go_out_as_one_batch_record(broker: Broker, topic: str) -> None:
    exchange = SimpleNamespace(id="bitstamp")  # only its id is read to send
    session = _LiveSession(
        exchange, new_producer(broker.bootstrap), topic, LiveStats(), None, None, random.Random(0)
    )
    trades = [
        TradeV1(venue="bitstamp", symbol="BTC/USD", trade_id=str(100 + k), seq=k, ts_ms=1_700_000_000_000 + k,
                price=40_000.0 + k, quantity=0.1, side="buy")
        for k in range(4)
    ]  # fmt: skip
    session.send_trades(trades[:3])
    session.send_trades(trades[3:])
    session.send_trades([])
    assert session.producer.flush(30) == 0
    consumer = Consumer(
        {"bootstrap.servers": broker.bootstrap, "group.id": uuid.uuid4().hex, "auto.offset.reset": "earliest"}
    )  # fmt: skip
    consumer.subscribe([topic])
    got = [decode(m.value()) for m in consume_n(consumer, 2)]
    consumer.close()
    assert got == [TradeBatchV1.of(trades[:3]), trades[3]]


def test_a_full_producer_queue_waits_and_loses_no_record(broker: Broker, topic: str) -> None:
    """A local queue of 3 records, 40 sent in a burst: each send past the third finds it full
    (BufferError) and waits for deliveries; every record reaches the topic, in order."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True,
                         "queue.buffering.max.messages": 3, "linger.ms": 50})  # fmt: skip
    full = 0
    real_produce = producer.produce

    def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal full
        try:
            real_produce(*args, **kwargs)
        except BufferError:
            full += 1
            raise

    trades = [
        TradeV1(venue="bitstamp", symbol="BTC/USD", trade_id=str(k), seq=k, ts_ms=1_700_000_000_000 + k,
                price=40_000.0 + k, quantity=0.1, side="buy")
        for k in range(40)
    ]  # fmt: skip
    for trade in trades:
        send_record(SimpleNamespace(produce=counting, poll=producer.poll), topic, trade)  # type: ignore[arg-type]
    assert producer.flush(30) == 0
    assert full > 0  # the queue did fill: the wait was exercised
    consumer = Consumer(
        {"bootstrap.servers": broker.bootstrap, "group.id": uuid.uuid4().hex, "auto.offset.reset": "earliest"}
    )  # fmt: skip
    consumer.subscribe([topic])
    got = [decode(m.value()) for m in consume_n(consumer, len(trades))]
    consumer.close()
    assert got == trades


def consume_n(consumer: Consumer, n: int) -> list[Any]:
    got: list[Any] = []
    while len(got) < n:
        message = consumer.poll(10)
        assert message is not None, f"{n - len(got)} record(s) never came"
        assert message.error() is None, message.error()
        got.append(message)
    return got


def test_a_stop_ends_the_stream_cleanly(broker: Broker, rest: FakeBitstamp, topic: str) -> None:
    """Set from outside (here, once every trade is in), the stop closes the exchange and
    flushes the producer: all that was sent is on the topic."""
    frames = recorded_frames()[:12]
    stats = LiveStats()

    async def until_all_sent(url: str) -> LiveStats:
        stop = asyncio.Event()

        async def stop_when_all_sent() -> None:
            while stats.records < len(frames):
                await asyncio.sleep(0.01)
            stop.set()

        watcher = asyncio.create_task(stop_when_all_sent())
        try:
            return await stream_live(
                "bitstamp", list(SYMBOLS.values()), new_producer(broker.bootstrap), topic,
                ws_url=url, api_url=rest.api_url, stop=stop, backoff=QUICK, stats=stats,
            )  # fmt: skip
        finally:
            watcher.cancel()

    with serve_bitstamp_ws(FakeBitstampWs(frames=frames)) as fake:
        assert asyncio.run(until_all_sent(fake.url)) is stats
    assert stats.stop_reason == "stopped"
    assert_in_order_once(read_topic(broker.bootstrap, topic), frames)


def test_a_dropped_connection_is_redialled_and_the_possible_gap_reported(
    broker: Broker, rest: FakeBitstamp, topic: str
) -> None:
    """The line goes dead after 20 frames and 4 trades print before the redial: each feed
    redials after the backoff, and reports the span from its last trade before the break to
    its first after it, which holds every trade it never received."""
    frames = recorded_frames()
    fake = FakeBitstampWs(frames=frames, drop_after=20, lost=4)
    before, lost, after = frames[:20], frames[20:24], frames[24:]
    stats = stream(broker, rest, topic, fake, max_records=len(frames) - len(lost))

    assert_in_order_once(read_topic(broker.bootstrap, topic), before + after)
    assert fake.connections == 2
    assert sorted((r.feed, r.attempt, r.delay_s) for r in stats.reconnects) == [
        ("bitstamp:BTC/USD", 1, 0.05), ("bitstamp:ETH/USD", 1, 0.05),
    ]  # fmt: skip
    gaps = {}
    for key in by_feed(frames):
        last, first = by_feed(before)[key][-1], by_feed(after)[key][0]
        gaps[key] = Gap(key, GapReason.RECONNECT, last[2], first[2], last[1], first[1])
    assert {g.feed: g for g in stats.gaps} == gaps
    assert len(stats.gaps) == len(gaps)
    for key, missing in by_feed(lost).items():
        assert all(gaps[key].since_ms <= m[2] <= gaps[key].until_ms for m in missing)
    assert stats.duplicates == 0


def test_trades_resent_after_a_reconnect_are_not_produced_twice(
    broker: Broker, rest: FakeBitstamp, topic: str
) -> None:
    """The next connection re-sends the 6 frames before the cut: they are dropped, and a feed
    whose last trade is among them resumed without a gap."""
    frames = recorded_frames()
    fake = FakeBitstampWs(frames=frames, drop_after=20, resend=6)
    stats = stream(broker, rest, topic, fake, max_records=len(frames))

    assert_in_order_once(read_topic(broker.bootstrap, topic), frames)
    assert fake.connections == 2
    assert fake.sent == len(frames) + 6
    assert stats.duplicates == 6
    assert len(stats.reconnects) == 2
    resent = {str(f["data"]["id"]) for f in frames[14:20]}
    unproven = sorted(k for k, v in by_feed(frames[:20]).items() if v[-1][1] not in resent)
    assert sorted(g.feed for g in stats.gaps) == unproven
    assert stats.overlaps == 2 - len(unproven)


def test_a_malformed_trade_is_refused_and_the_stream_goes_on(
    broker: Broker, rest: FakeBitstamp, topic: str
) -> None:
    """One trade whose price is not a number (ccxt's parser raises on it) and one with no
    price at all (parsed, but no trade.v1): each is refused with its reason, and the rest
    arrive on the same connection, numbered without a hole."""
    frames = recorded_frames()
    btc = next(f for f in frames[8:] if f["channel"] == "live_trades_btcusd")
    eth = next(f for f in frames[20:] if f["channel"] == "live_trades_ethusd")
    not_a_number = copy.deepcopy(btc)
    not_a_number["data"].update(id=322418950, price="61,5O0", price_str="61,5O0")
    no_price = copy.deepcopy(eth)
    no_price["data"].update(id=322419011, price=None, price_str=None)
    served = [*frames[:10], not_a_number, *frames[10:25], no_price, *frames[25:]]
    fake = FakeBitstampWs(frames=served)
    stats = stream(broker, rest, topic, fake, max_records=len(frames))

    assert_in_order_once(read_topic(broker.bootstrap, topic), frames)
    assert [(r.feed, r.code) for r in stats.refusals] == [
        ("bitstamp:BTC/USD", RefusalCode.UNPARSEABLE),
        ("bitstamp:ETH/USD", RefusalCode.INVALID_TRADE),
    ]
    assert "61,5O0" in stats.refusals[0].detail
    assert "price" in stats.refusals[1].detail
    assert "322419011" in stats.refusals[1].detail
    # The stream did not stall and redial: one connection, no break.
    assert (fake.connections, stats.reconnects, stats.gaps) == (1, [], [])
    assert stats.per_feed == {k: len(v) for k, v in by_feed(frames).items()}


# -- books ---------------------------------------------------------------------------------


Top = tuple[float, float, float, float]


def book_tops(snapshot: dict[str, Any], frames: list[dict[str, Any]]) -> list[Top]:
    """Each top the BTC/USD book takes once in line, read from the wire itself: the REST
    snapshot, then every delta newer than it applied (a level's new amount, 0 removes it)."""
    sides = [
        {float(p): float(q) for p, q in snapshot["bids"]},
        {float(p): float(q) for p, q in snapshot["asks"]},
    ]

    def top() -> Top:
        bid, ask = max(sides[0]), min(sides[1])
        return (bid, ask, sides[0][bid], sides[1][ask])

    tops = [top()]
    for frame in frames:
        data = frame["data"]
        newer = int(data["microtimestamp"]) > int(snapshot["microtimestamp"])
        if frame["channel"] != "diff_order_book_btcusd" or not newer:
            continue
        for side, levels in zip(sides, (data["bids"], data["asks"]), strict=True):
            for price, amount, _order in levels:
                if float(amount) == 0:
                    side.pop(float(price), None)
                else:
                    side[float(price)] = float(amount)
        if top() != tops[-1]:
            tops.append(top())
    return tops


def test_a_book_becomes_its_top_each_time_the_top_changes(
    broker: Broker, rest: FakeBitstamp, topic: str
) -> None:
    """ccxt syncs the book from the REST snapshot and the deltas after it; each new top goes
    to the books topic (ticks coalesced between reads, none out of order), the last one the
    book's final top, while the trades go on to theirs."""
    snapshot, frames = recorded_book_tape()
    rest.order_books["btcusd"] = snapshot
    books = new_topic(broker)
    trades = [f for f in frames if f["channel"].startswith("live_trades_")]
    stats = LiveStats()

    async def run(url: str) -> LiveStats:
        stop = asyncio.Event()

        async def stop_once_settled() -> None:
            seen = -1
            while stats.records < len(trades) or stats.books != seen:
                seen = stats.books
                await asyncio.sleep(0.3)
            stop.set()

        watcher = asyncio.create_task(stop_once_settled())
        try:
            return await stream_live(
                "bitstamp", list(SYMBOLS.values()), new_producer(broker.bootstrap), topic,
                books_topic=books, ws_url=url, api_url=rest.api_url, stop=stop, backoff=QUICK,
                stats=stats,
            )  # fmt: skip
        finally:
            watcher.cancel()

    # Frames 50 ms apart: the snapshot (asked for after six deltas) is in before the tape ends.
    with serve_bitstamp_ws(FakeBitstampWs(frames=frames, interval_s=0.05)) as fake:
        asyncio.run(run(fake.url))
        assert "diff_order_book_btcusd" in fake.subscriptions
    assert any("/api/v2/order_book/btcusd/" in r for r in rest.requests)
    assert_in_order_once(read_topic(broker.bootstrap, topic), trades)
    records = read_topic(broker.bootstrap, books, BookV1)
    assert set(records) == {"bitstamp:BTC/USD"}  # the tape holds no ETH/USD book
    sent = records["bitstamp:BTC/USD"]
    assert stats.books == len(sent) > 1
    tops = book_tops(snapshot, frames)
    got = [(r.bid, r.ask, r.bid_size, r.ask_size) for r in sent]
    assert got[-1] == tops[-1]
    places = [tops.index(t) for t in got]  # each a top the book took...
    assert places == sorted(set(places))  # ...in the book's order, none twice
    assert [r.seq for r in sent] == list(range(len(sent)))
    assert all(r.bid < r.ask for r in sent)
    assert stats.refusals == []
    assert stats.reconnects == []


def test_a_ccxt_book_becomes_its_top_or_says_why_not() -> None:
    book = {"bids": [[61480.0, 0.62], [61479.0, 1.2]], "asks": [[61490.0, 0.18]],
            "nonce": 1709294404900246, "timestamp": 1709294404000}  # fmt: skip
    record = book_record("bitstamp", "BTC/USD", book, 7, "s1")
    assert record is not None
    assert (record.bid, record.ask, record.bid_size, record.ask_size) == (61480, 61490, 0.62, 0.18)
    assert (record.ts_ms, record.seq, record.session) == (1709294404900, 7, "s1")
    assert book_record("bitstamp", "BTC/USD", {**book, "asks": []}, 0) is None  # one side empty
    with pytest.raises(ValueError, match="bid"):
        book_record("bitstamp", "BTC/USD", {**book, "bids": [[0.0, 1.0]]}, 0)
