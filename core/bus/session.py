"""Publish/subscribe and request/reply over Zenoh.

Zenoh's callbacks must not block, so no handler runs in one: every subscription and
queryable receives into a FIFO channel, and a worker thread of ours decodes each message and
calls the handler. A message that does not decode is logged and dropped; a handler that
raises is logged; neither stops the worker."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import zenoh
from pydantic import ValidationError

from core.bus.messages import BusMessage, Reply, decode, encode
from core.closing import Closing
from core.logs import trace_id_var
from core.telemetry import BUS_LATENCY, BUS_MESSAGES

log = logging.getLogger(__name__)
LOOPBACK_LISTEN = ("tcp/127.0.0.1:0",)


class BusError(RuntimeError):
    """The bus could not open, or a request got no usable reply."""


@dataclass
class Counters:
    received: int = 0
    dropped: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class Subscription:
    """A subscriber or queryable and the worker that serves it; `close()` stops both."""

    def __init__(self, entity: Any, worker: Callable[[], None], name: str) -> None:
        self.entity = entity
        self.counters = Counters()
        self.thread = threading.Thread(target=worker, name=name, daemon=True)

    def close(self) -> None:
        self.entity.undeclare()
        self.thread.join(timeout=5)


def config(
    mode: str = "peer",
    listen: Sequence[str] = LOOPBACK_LISTEN,
    connect: Sequence[str] = (),
) -> zenoh.Config:
    conf = zenoh.Config()
    conf.insert_json5("mode", json.dumps(mode))
    if mode != "client":
        conf.insert_json5("listen/endpoints", json.dumps(list(listen)))
    conf.insert_json5("connect/endpoints", json.dumps(list(connect)))
    # Multicast scouting would announce the desk on the LAN; peers meet on the endpoints
    # they are given, and gossip introduces the rest.
    conf.insert_json5("scouting/multicast/enabled", "false")
    return conf


class Bus(Closing):
    def __init__(self, session: zenoh.Session) -> None:
        self.session = session
        self._publishers: dict[tuple[str, bool], zenoh.Publisher] = {}
        self._declaring = threading.Lock()
        self._subscriptions: list[Subscription] = []

    @classmethod
    def open(
        cls,
        mode: str = "peer",
        listen: Sequence[str] = LOOPBACK_LISTEN,
        connect: Sequence[str] = (),
    ) -> Bus:
        try:
            return cls(zenoh.open(config(mode, listen, connect)))
        except zenoh.ZError as exc:
            raise BusError(f"the bus could not open ({mode}, listen {listen}): {exc}") from exc

    def publish(self, key: str, message: BusMessage, *, block: bool = True) -> None:
        """`block`: wait for room rather than drop when the network is congested (orders,
        fills, commands); market data may pass block=False."""
        publisher = self._publishers.get((key, block))
        if publisher is None:
            publisher = self._declare(key, block)
        publisher.put(encode(message))

    def _declare(self, key: str, block: bool) -> zenoh.Publisher:
        # Several threads publish (handlers, heartbeats, the gateway's listeners): one
        # publisher per key, declared once.
        with self._declaring:
            publisher = self._publishers.get((key, block))
            if publisher is None:
                publisher = self.session.declare_publisher(
                    key,
                    congestion_control=zenoh.CongestionControl.BLOCK
                    if block
                    else zenoh.CongestionControl.DROP,
                    reliability=zenoh.Reliability.RELIABLE,
                    express=True,
                )
                self._publishers[(key, block)] = publisher
            return publisher

    def subscribe(
        self,
        key: str,
        handler: Callable[[BusMessage, str], None],
        capacity: int = 200_000,
    ) -> Subscription:
        """Call `handler(message, key)` for each message on `key` (wildcards allowed), in
        order, on a worker thread."""
        channel: zenoh.handlers.FifoChannel[zenoh.Sample] = zenoh.handlers.FifoChannel(capacity)
        subscriber = self.session.declare_subscriber(key, channel)

        def work() -> None:
            for sample in subscriber:
                try:
                    message = decode(sample.payload.to_bytes())
                except (ValidationError, ValueError) as exc:
                    sub.counters.add("dropped")
                    BUS_MESSAGES.labels(key, "dropped").inc()
                    log.warning("bus: dropped a malformed message on %s: %s", sample.key_expr,
                                str(exc)[:200])  # fmt: skip
                    continue
                sub.counters.add("received")
                BUS_MESSAGES.labels(key, "received").inc()
                BUS_LATENCY.observe((datetime.now(UTC) - message.ts).total_seconds())
                # Logs written while handling carry the message's trace id (core.logs).
                trace_id_var.set(message.trace_id)
                try:
                    handler(message, str(sample.key_expr))
                except Exception:
                    sub.counters.add("failed")
                    BUS_MESSAGES.labels(key, "failed").inc()
                    log.exception("bus: handler for %s failed", key)

        sub = Subscription(subscriber, work, f"bus-sub:{key}")
        sub.thread.start()
        self._subscriptions.append(sub)
        return sub

    def serve(self, key: str, handler: Callable[[BusMessage], Reply]) -> Subscription:
        """Answer requests on `key`; a malformed request gets an error reply."""
        channel: zenoh.handlers.FifoChannel[zenoh.Query] = zenoh.handlers.FifoChannel(10_000)
        queryable = self.session.declare_queryable(key, channel)

        def work() -> None:
            for query in queryable:
                try:
                    payload = query.payload.to_bytes() if query.payload is not None else b""
                    request = decode(payload)
                    trace_id_var.set(request.trace_id)
                    reply = handler(request).model_copy(update={"trace_id": request.trace_id})
                    sub.counters.add("received")
                except (ValidationError, ValueError) as exc:
                    sub.counters.add("dropped")
                    reply = Reply(ok=False, error=f"malformed request: {str(exc)[:200]}")
                except Exception as exc:
                    sub.counters.add("failed")
                    log.exception("bus: queryable %s failed", key)
                    reply = Reply(ok=False, error=f"{type(exc).__name__}: {exc}")
                query.reply(key, encode(reply))
                # The requester's answer is final only once the query is finalised.
                query.drop()  # type: ignore[no-untyped-call]

        sub = Subscription(queryable, work, f"bus-serve:{key}")
        sub.thread.start()
        self._subscriptions.append(sub)
        return sub

    def request(self, key: str, message: BusMessage, timeout: float = 2.0) -> Reply:
        for answer in self.session.get(key, payload=encode(message), timeout=timeout):
            if answer.ok is None:
                raise BusError(f"{key}: error reply: {answer.err}")
            decoded = decode(answer.ok.payload.to_bytes())
            if not isinstance(decoded, Reply):
                raise BusError(f"{key}: the reply is a {decoded.type}, not a reply")
            return decoded
        raise BusError(f"{key}: no reply within {timeout} s")

    def close(self) -> None:
        for sub in self._subscriptions:
            sub.close()
        for publisher in self._publishers.values():
            publisher.undeclare()  # type: ignore[no-untyped-call]
        self.session.close()  # type: ignore[no-untyped-call]
