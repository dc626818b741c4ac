"""The live adapter's books: a venue's order book over its websocket (ccxt.pro
`watch_order_book`) into the books topic as its top (`BookV1`: best bid and ask, their sizes),
one record each time the top changes.

ccxt keeps the book: for Bitstamp it caches the `diff_order_book` deltas, fetches a REST
snapshot, and applies the deltas newer than the snapshot (a sequence check by microtimestamp);
a book it cannot bring in line is rejected and resubscribed afresh. Books are latest-value, so
a break costs no gap to report: the feed redials with the trades' backoff and its next top is
from a book rebuilt from a new snapshot. A crossed or locked top is sent as the venue gave it:
the stream's checks flag it (tools/stream/checks.py), the adapter does not judge."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.stream.messages import BookV1

if TYPE_CHECKING:
    from tools.stream.live_adapter import RedialSchedule, _LiveSession

_EXCERPT = 300

Top = tuple[float, float, float, float]


def book_record(
    venue: str, symbol: str, book: Mapping[str, Any], seq: int, session: str | None = None
) -> BookV1 | None:
    """The top of a ccxt order book as the stream's record; None while a side is empty;
    ValueError when what the book holds is not a valid book.v1 (a price of 0, no time)."""
    bids, asks = book.get("bids") or [], book.get("asks") or []
    if not bids or not asks:
        return None
    nonce = book.get("nonce")
    # Bitstamp's nonce is the delta's microtimestamp (its `timestamp` is whole seconds); a
    # venue whose book carries no time gets the adapter's clock.
    if isinstance(nonce, int) and nonce > 10**15:
        ts_ms = nonce // 1000
    else:
        ts_ms = book.get("timestamp") or int(time.time() * 1000)
    return BookV1.model_validate(
        {
            "venue": venue, "symbol": symbol, "seq": seq, "session": session, "ts_ms": ts_ms,
            "bid": bids[0][0], "bid_size": bids[0][1], "ask": asks[0][0], "ask_size": asks[0][1],
        }
    )  # fmt: skip


@dataclass
class BookFeed:
    """One instrument's book feed: its count and the last top it sent."""

    key: str
    symbol: str
    schedule: RedialSchedule
    topic: str
    seq: int = 0
    last_top: Top | None = None


async def run_books(session: _LiveSession, feed: BookFeed) -> None:
    """Watch `feed`'s book until the session is done, sending each new top."""
    import ccxt

    from tools.stream.live_adapter import Reconnect, Refusal, RefusalCode

    while not session.done.is_set():
        try:
            book = await session.exchange.watch_order_book(feed.symbol)
        except ccxt.BaseError as exc:
            # A broken stream (NetworkError) or a book ccxt could not sync (ExchangeError:
            # its snapshot behind the deltas): either way it starts over from a new snapshot.
            delay = feed.schedule.broke(time.monotonic(), session.rng.random())
            error = f"{type(exc).__name__}: {str(exc)[:_EXCERPT]}"
            session.report(Reconnect(feed.key, feed.schedule.attempts, delay, error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.done.wait(), timeout=delay)
            continue
        feed.schedule.up(time.monotonic())
        try:
            record = book_record(session.venue, feed.symbol, book, feed.seq, session.session)
        except ValueError as exc:
            detail = " ".join(str(exc).split())[:_EXCERPT]
            session.report(Refusal(feed.key, RefusalCode.INVALID_BOOK, detail))
            continue
        if record is None:
            continue
        top = (record.bid, record.ask, record.bid_size, record.ask_size)
        if top == feed.last_top:
            continue  # a change deeper in the book: the top the topic holds still stands
        session.send(record, feed.topic)
        feed.last_top = top
        feed.seq += 1
        session.stats.books += 1
