"""The live adapter: a venue's public trades over its websocket (ccxt.pro) into the trades
topic, one watch loop per symbol (a feed, `venue:symbol`), each trade a TradeV1 keyed by
instrument, numbered by the feed's own running count (`seq`).

What a break costs is told the way the venue allows. Bitstamp's trade ids are integers that
rise across all of its pairs, so the BTC/USD trade after 322418915 may well be 322418932: a
jump in the venue's ids is no gap by itself, and none is ever reported from ids. What the
adapter does know is when the stream broke: each break is reported (`Reconnect`), the feed
redials with capped, jittered exponential backoff, and the first new trade after it closes a
possible gap from the last trade sent to that one (`Gap`, RECONNECT). Where the new stream
re-sends the last trade sent, it provably picks up where the old one stopped: no gap. A trade
the feed already sent (its venue id seen lately) is dropped, never produced twice.

A message the venue's parser or the record schema refuses is reported (`Refusal`, a stable
code) and skipped; the stream, its numbering and its memory of sent ids go on untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tools.stream.live_books import BookFeed, run_books
from tools.stream.messages import MAX_BATCH, Record, TradeBatchV1, TradeV1
from tools.stream.topics import MD_TRADES, send_record

if TYPE_CHECKING:
    import threading

    from confluent_kafka import KafkaError, Message, Producer

log = logging.getLogger(__name__)

# Trade ids remembered per feed to drop what a reconnect re-sends: far more than any venue
# replays, few enough to cost nothing.
RECENT_IDS = 10_000
_EXCERPT = 300


class LiveFeedError(RuntimeError):
    """The adapter cannot stream what was asked (no such exchange, symbol or websocket)."""


class GapReason(StrEnum):
    """Why trades may be missing from a feed."""

    RECONNECT = "RECONNECT"  # the stream broke; trades printed while it was down are not sent


class RefusalCode(StrEnum):
    """Why a message from the venue became no record."""

    UNPARSEABLE = "UNPARSEABLE"  # ccxt's parser raised on the venue's message
    INVALID_TRADE = "INVALID_TRADE"  # parsed, but not a valid trade.v1 (price, size, time, id)
    INVALID_BOOK = "INVALID_BOOK"  # a book whose top is not a valid book.v1


@dataclass(frozen=True)
class Reconnect:
    """The feed's stream broke; it redials after `delay_s`."""

    feed: str
    attempt: int
    delay_s: float
    error: str

    def __str__(self) -> str:
        return (
            f"{self.feed}: stream broke ({self.error}); reconnect {self.attempt} "
            f"in {self.delay_s:.2f} s"
        )


@dataclass(frozen=True)
class Gap:
    """Trades printed between `since_ms` and `until_ms` may be missing from the feed."""

    feed: str
    reason: GapReason
    since_ms: int
    until_ms: int
    last_trade_id: str
    next_trade_id: str

    def __str__(self) -> str:
        return (
            f"{self.feed}: possible gap ({self.reason}) of {self.until_ms - self.since_ms} ms "
            f"between trade {self.last_trade_id} and {self.next_trade_id}"
        )


@dataclass(frozen=True)
class Refusal:
    """A message that became no record; `feed` is None when it names none of ours."""

    feed: str | None
    code: RefusalCode
    detail: str

    def __str__(self) -> str:
        return f"{self.feed or 'unknown feed'}: refused ({self.code}): {self.detail}"


LiveEvent = Reconnect | Gap | Refusal


@dataclass
class LiveStats:
    """What a run sent, and every break, gap and refusal on the way."""

    records: int = 0
    books: int = 0  # tops of book sent
    per_feed: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    reconnects: list[Reconnect] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    overlaps: int = 0  # breaks the new stream's re-sent trades proved gap-free
    refusals: list[Refusal] = field(default_factory=list)
    undelivered: int = 0  # records the broker did not take
    stop_reason: str = ""

    def summary(self) -> str:
        return (
            f"{self.records} trades and {self.books} book tops sent ({self.stop_reason}); "
            f"{len(self.reconnects)} "
            f"reconnect(s), {len(self.gaps)} possible gap(s), {self.duplicates} repeat(s) "
            f"dropped, {len(self.refusals)} message(s) refused, {self.undelivered} "
            "undelivered"
        )


@dataclass(frozen=True)
class Backoff:
    """Redial delays: `initial_s` times `factor` per failed try up to `cap_s`, each cut by up
    to `jitter` at random so feeds that broke together do not redial together; the count
    starts over once a stream has stayed up `healthy_s`."""

    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    jitter: float = 0.2
    healthy_s: float = 60.0

    def delay_s(self, attempt: int, draw: float = 0.0) -> float:
        """The wait before try `attempt` (0: the first after a healthy stream); `draw` in
        [0, 1) picks the jitter."""
        base = min(self.cap_s, self.initial_s * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * draw)


@dataclass
class RedialSchedule:
    """One feed's place in its `Backoff`: failed tries since it was last healthy."""

    backoff: Backoff
    attempts: int = 0
    up_since: float | None = None

    def up(self, now: float) -> None:
        """The stream delivered: it counts as up from its first delivery after a break."""
        if self.up_since is None:
            self.up_since = now

    def broke(self, now: float, draw: float = 0.0) -> float:
        """The stream broke at `now`: the wait before redialling."""
        if self.up_since is not None and now - self.up_since >= self.backoff.healthy_s:
            self.attempts = 0
        self.up_since = None
        delay = self.backoff.delay_s(self.attempts, draw)
        self.attempts += 1
        return delay


def trade_record(
    venue: str, trade: Mapping[str, Any], seq: int, session: str | None = None
) -> TradeV1:
    """A ccxt trade as the stream's record; ValueError (pydantic's ValidationError is one)
    says why it is not one."""
    trade_id = trade.get("id")
    return TradeV1.model_validate(
        {
            "venue": venue,
            "symbol": trade.get("symbol"),
            "trade_id": str(trade_id) if isinstance(trade_id, int) else trade_id,
            "seq": seq,
            "session": session,
            "ts_ms": trade.get("timestamp"),
            "price": trade.get("price"),
            "quantity": trade.get("amount"),
            "side": trade.get("side"),
        }
    )


@dataclass
class _Feed:
    """What one feed remembers: its count, the ids it sent lately, and an unhealed break."""

    key: str
    symbol: str
    market_id: str
    schedule: RedialSchedule
    seq: int = 0
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_IDS))
    recent_set: set[str] = field(default_factory=set)
    last_id: str | None = None
    last_ts: int | None = None
    broken: bool = False

    def remember(self, trade_id: str, ts_ms: int) -> None:
        if len(self.recent) == self.recent.maxlen:
            self.recent_set.discard(self.recent[0])
        self.recent.append(trade_id)
        self.recent_set.add(trade_id)
        self.last_id, self.last_ts = trade_id, ts_ms


class _LiveSession:
    """One run: the exchange, its feeds, the producer and what happened."""

    def __init__(
        self,
        exchange: Any,
        producer: Producer,
        topic: str,
        stats: LiveStats,
        max_records: int | None,
        on_event: Callable[[LiveEvent], None] | None,
        rng: random.Random,
    ) -> None:
        self.exchange = exchange
        self.venue: str = exchange.id
        self.session = uuid.uuid4().hex[:16]  # this run's numbering of each feed
        self.producer = producer
        self.topic = topic
        self.stats = stats
        self.max_records = max_records
        self.on_event = on_event
        self.rng = rng
        self.feeds: dict[str, _Feed] = {}
        self.done = asyncio.Event()

    def report(self, event: LiveEvent) -> None:
        if isinstance(event, Reconnect):
            self.stats.reconnects.append(event)
        elif isinstance(event, Gap):
            self.stats.gaps.append(event)
        else:
            self.stats.refusals.append(event)
        log.warning("md live: %s", event)
        if self.on_event is not None:
            self.on_event(event)

    def guard_parser(self) -> None:
        """Make one message that ccxt's parser trips on a refusal, not a stalled stream: an
        exception out of `handle_message` ends ccxt's receive loop, and the socket would sit
        unread until the keepalive timed it out."""
        import ccxt

        parse = self.exchange.handle_message

        def guarded(client: Any, message: Any) -> Any:
            try:
                return parse(client, message)
            except ccxt.BaseError as exc:
                client.on_error(exc)  # the venue's own error: ccxt's path, the socket closes
            except Exception as exc:  # a parser bug on one message: refuse it, read on
                text = _excerpt(message)
                named = [f for f in self.feeds.values() if f.market_id in text]
                # The longest id that fits: btcusd is in live_trades_btcusdt too.
                feed = max(named, key=lambda f: len(f.market_id)).key if named else None
                detail = f"{type(exc).__name__}: {exc}; message {text}"
                self.report(Refusal(feed, RefusalCode.UNPARSEABLE, detail[: 2 * _EXCERPT]))
            return None

        self.exchange.handle_message = guarded

    async def run_feed(self, feed: _Feed) -> None:
        import ccxt

        while not self.done.is_set():
            try:
                trades = await self.exchange.watch_trades(feed.symbol)
            except ccxt.NetworkError as exc:  # the stream broke or could not be dialled
                delay = feed.schedule.broke(time.monotonic(), self.rng.random())
                feed.broken = feed.broken or feed.last_id is not None
                error = f"{type(exc).__name__}: {str(exc)[:_EXCERPT]}"
                self.report(Reconnect(feed.key, feed.schedule.attempts, delay, error))
                with contextlib.suppress(TimeoutError):  # the wait, or a stop
                    await asyncio.wait_for(self.done.wait(), timeout=delay)
                continue
            feed.schedule.up(time.monotonic())
            # No await from here to the next watch: every trade ccxt holds is taken now, and
            # what one watch brought goes out as one record (a batch when it is several).
            taken: list[TradeV1] = []
            for trade in trades:
                record = self.take(feed, trade)
                if record is not None:
                    taken.append(record)
                if self.done.is_set():
                    break
            self.send_trades(taken)
            if self.done.is_set():
                return

    def send_trades(self, records: list[TradeV1]) -> None:
        """One feed's trades, numbered one after another: a `trade.v1` record when it is one,
        `trade_batch.v1` records of up to MAX_BATCH when several."""
        if len(records) == 1:
            self.send(records[0])
            return
        for at in range(0, len(records), MAX_BATCH):
            self.send(TradeBatchV1.of(records[at : at + MAX_BATCH]))

    def take(self, feed: _Feed, trade: Mapping[str, Any]) -> TradeV1 | None:
        """`trade` as the feed's next record, counted; None for a repeat or a refusal."""
        trade_id = trade.get("id")
        if isinstance(trade_id, str) and trade_id in feed.recent_set:
            self.stats.duplicates += 1
            if feed.broken and trade_id == feed.last_id:
                feed.broken = False  # the new stream re-sent our last trade: nothing between
                self.stats.overlaps += 1
                log.info("md live: %s resumed at trade %s already sent: no gap", feed.key, trade_id)
            return None
        try:
            record = trade_record(self.venue, trade, feed.seq, self.session)
        except ValueError as exc:
            detail = f"{_first_line(exc)}; trade {_excerpt(trade.get('info', trade))}"
            self.report(Refusal(feed.key, RefusalCode.INVALID_TRADE, detail[: 2 * _EXCERPT]))
            return None
        if feed.broken and feed.last_id is not None and feed.last_ts is not None:
            self.report(
                Gap(
                    feed.key,
                    GapReason.RECONNECT,
                    feed.last_ts,
                    record.ts_ms,
                    feed.last_id,
                    record.trade_id,
                )
            )
        feed.broken = False
        feed.seq += 1
        feed.remember(record.trade_id, record.ts_ms)
        self.stats.records += 1
        self.stats.per_feed[feed.key] = self.stats.per_feed.get(feed.key, 0) + 1
        if self.max_records is not None and self.stats.records >= self.max_records:
            self.stats.stop_reason = "max_records"
            self.done.set()
        return record

    def send(self, record: Record, topic: str | None = None) -> None:
        send_record(self.producer, topic or self.topic, record, self.delivered)

    def delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.stats.undelivered += 1
            log.error("md live: %s not delivered to %s: %s", message.key(), message.topic(), error)


def _excerpt(value: object) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _first_line(exc: Exception) -> str:
    lines = str(exc).splitlines()
    return " ".join(line.strip() for line in lines[:3])[:_EXCERPT]


def _exchange(exchange_id: str, ws_url: str | None, api_url: str | None) -> Any:
    import ccxt.pro

    exchange_class = getattr(ccxt.pro, exchange_id, None) if exchange_id.isidentifier() else None
    if exchange_class is None:
        raise LiveFeedError(f"ccxt.pro has no websocket exchange {exchange_id!r}")
    exchange = exchange_class({"enableRateLimit": True})
    if not exchange.has.get("watchTrades"):
        raise LiveFeedError(f"{exchange_id} streams no public trades (ccxt.pro watchTrades)")
    api = exchange.urls["api"]
    if ws_url is not None:
        # Bitstamp's is one url; others keep one per market type (spot, future, ...).
        ws = api["ws"]
        api["ws"] = _pointed(ws, ws_url)
    if api_url is not None:
        for name in [k for k in api if k != "ws"]:
            api[name] = _pointed(api[name], api_url)
    return exchange


def _pointed(urls: Any, url: str) -> Any:
    return {k: _pointed(v, url) for k, v in urls.items()} if isinstance(urls, dict) else url


async def _until_stopped(stop: threading.Event | asyncio.Event | None, done: asyncio.Event) -> None:
    while not done.is_set():
        if stop is not None and stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=0.1)


async def stream_live(
    exchange_id: str,
    symbols: Sequence[str],
    producer: Producer,
    topic: str = MD_TRADES.name,
    *,
    books_topic: str | None = None,
    ws_url: str | None = None,
    api_url: str | None = None,
    stop: threading.Event | asyncio.Event | None = None,
    max_records: int | None = None,
    backoff: Backoff = Backoff(),
    on_event: Callable[[LiveEvent], None] | None = None,
    stats: LiveStats | None = None,
    rng: random.Random | None = None,
) -> LiveStats:
    """Stream `symbols`' trades from `exchange_id` to `topic`, and with `books_topic` their
    books' tops there (tools/stream/live_books.py), until `stop` is set or `max_records`
    trades are sent; `ws_url` and `api_url` point the websocket and REST (markets, book
    snapshots) at another server. Reconnects, gaps and refusals go to the log, to `on_event`
    and to the returned stats; the exchange is closed and the producer flushed on the way
    out."""
    if not symbols:
        raise LiveFeedError("no symbols to stream")
    stats = stats if stats is not None else LiveStats()
    exchange = _exchange(exchange_id, ws_url, api_url)
    if books_topic is not None and not exchange.has.get("watchOrderBook"):
        raise LiveFeedError(f"{exchange_id} streams no order book (ccxt.pro watchOrderBook)")
    # Jitter only spreads redials; nothing depends on it being unpredictable.
    rng = rng or random.Random()  # noqa: S311
    session = _LiveSession(exchange, producer, topic, stats, max_records, on_event, rng)
    tasks: list[asyncio.Task[None]] = []
    try:
        session.guard_parser()
        await _load_markets(exchange, symbols)
        for symbol in dict.fromkeys(symbols):
            market = exchange.market(symbol)
            feed = _Feed(
                f"{session.venue}:{market['symbol']}",
                market["symbol"],
                market["id"],
                RedialSchedule(backoff),
            )
            session.feeds[feed.key] = feed
            tasks.append(asyncio.create_task(session.run_feed(feed), name=feed.key))
            if books_topic is not None:
                book = BookFeed(
                    f"{feed.key} book", feed.symbol, RedialSchedule(backoff), books_topic
                )
                tasks.append(asyncio.create_task(run_books(session, book), name=book.key))
        tasks.append(asyncio.create_task(_until_stopped(stop, session.done), name="stop"))
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            task.result()  # a feed ends early only on an error that redialling cannot cure
        stats.stop_reason = stats.stop_reason or "stopped"
    except asyncio.CancelledError:
        stats.stop_reason = stats.stop_reason or "cancelled"
        raise
    except Exception:
        stats.stop_reason = stats.stop_reason or "error"
        raise
    finally:
        session.done.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await exchange.close()
        vars(exchange).pop("handle_message", None)  # the guard: a cycle holding the producer
        left = producer.flush(30)
        stats.undelivered += left
    if left:
        raise RuntimeError(f"{left} record(s) not delivered to {topic} within 30 s")
    return stats


async def _load_markets(exchange: Any, symbols: Sequence[str]) -> None:
    import ccxt

    try:
        await exchange.load_markets()
    except ccxt.BaseError as exc:
        raise LiveFeedError(
            f"{exchange.id}: markets could not be loaded ({type(exc).__name__}): {exc}"
        ) from exc
    unknown = [s for s in symbols if s not in exchange.markets]
    if unknown:
        raise LiveFeedError(f"{exchange.id} lists no {', '.join(unknown)}")


def run_live(
    exchange_id: str,
    symbols: Sequence[str],
    producer: Producer,
    topic: str = MD_TRADES.name,
    *,
    books_topic: str | None = None,
    ws_url: str | None = None,
    api_url: str | None = None,
    stop: threading.Event | asyncio.Event | None = None,
    max_records: int | None = None,
    backoff: Backoff = Backoff(),
    on_event: Callable[[LiveEvent], None] | None = None,
    rng: random.Random | None = None,
) -> LiveStats:
    """`stream_live` on its own event loop, for a command line: Ctrl-C is a clean stop (the
    exchange closed, the producer flushed, the stats returned with stop_reason
    `interrupted`); a second Ctrl-C interrupts the cleanup."""
    stats = LiveStats()

    async def main() -> LiveStats:
        try:
            return await stream_live(
                exchange_id,
                symbols,
                producer,
                topic,
                books_topic=books_topic,
                ws_url=ws_url,
                api_url=api_url,
                stop=stop,
                max_records=max_records,
                backoff=backoff,
                on_event=on_event,
                stats=stats,
                rng=rng,
            )
        except asyncio.CancelledError:  # asyncio.run cancels the main task on Ctrl-C
            stats.stop_reason = "interrupted"
            return stats

    return asyncio.run(main())
