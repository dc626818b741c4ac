"""The bus itself: 100k messages from another process with blocking congestion control all
arrive, in order; malformed messages are logged and dropped and the subscriber lives on;
request/reply answers and refuses junk."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from core.bus import Bus, Heartbeat, Keys, Reply
from tests.fakes.loopback import free_port
from tests.services.conftest import heard
from tests.waiting import wait_until

BURST = 100_000
# Publishes once the test's subscriber is known to it, and stays on the bus until the test
# has every message (the test closes its stdin).
PUBLISHER = """
import sys
from core.bus import Bus, Heartbeat, Keys
from tests.waiting import wait_until
with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[sys.argv[1]]) as bus:
    probe = bus.session.declare_publisher(Keys.health("burst"))
    wait_until(lambda: probe.matching_status.matching, 30, what="the test's subscriber")
    for i in range(int(sys.argv[2])):
        bus.publish(Keys.health("burst"), Heartbeat(agent="burst", seq=i, pid=0))
    sys.stdin.read()
"""


@pytest.fixture
def hub_bus() -> tuple[Bus, str]:
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    bus = Bus.open("peer", listen=[endpoint])
    yield bus, endpoint
    bus.close()


def test_a_burst_from_another_process_loses_nothing(hub_bus: tuple[Bus, str]):
    bus, endpoint = hub_bus
    seen: list[int] = []
    bus.subscribe(Keys.health("burst"), lambda message, key: seen.append(message.seq))
    start = time.monotonic()
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, endpoint, str(BURST)], stdin=subprocess.PIPE, text=True
    )

    def all_arrived() -> bool:
        assert publisher.poll() is None, f"the publisher exited {publisher.returncode}"
        return len(seen) == BURST

    try:
        wait_until(all_arrived, 300, step=0.1, what=f"{BURST} messages", show=lambda: len(seen))
    finally:
        publisher.communicate("", timeout=60)  # closes its stdin: it leaves the bus
    assert publisher.returncode == 0
    print(f"{BURST} messages in {time.monotonic() - start:.1f} s")
    assert seen == list(range(BURST))


def test_malformed_messages_are_dropped_and_the_subscriber_lives(hub_bus: tuple[Bus, str]):
    bus, endpoint = hub_bus
    got: list[int] = []
    sub = bus.subscribe(Keys.ALL_HEALTH, lambda m, k: got.append(m.seq))
    with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint]) as other:
        heard(other, Keys.health("x"))
        for junk in (b"garbage", b"{}", b'{"type": "heartbeat"}', b'{"type": "order_request",'
                     b'"side": "buy", "quantity": -1, "symbol": "BTC", "requested_by": "x"}',
                     "\u00ff".encode("latin-1")):  # fmt: skip
            other.session.put(Keys.health("x"), junk)
        other.publish(Keys.health("x"), Heartbeat(agent="x", seq=7, pid=0))
        wait_until(lambda: got, 5, what="the well-formed heartbeat")
    assert got == [7]
    assert sub.counters.dropped == 5
    assert sub.counters.received == 1


def test_a_handler_that_raises_does_not_stop_the_worker(hub_bus: tuple[Bus, str]):
    bus, _ = hub_bus
    got: list[int] = []

    def fragile(message, key):
        if message.seq == 0:
            raise RuntimeError("boom")
        got.append(message.seq)

    sub = bus.subscribe(Keys.health("f"), fragile)
    for i in range(3):
        bus.publish(Keys.health("f"), Heartbeat(agent="f", seq=i, pid=0))
    wait_until(lambda: len(got) >= 2, 5, what="the two messages after the failure")
    assert got == [1, 2]
    assert sub.counters.failed == 1


def test_request_reply_and_a_malformed_request(hub_bus: tuple[Bus, str]):
    bus, endpoint = hub_bus
    bus.serve(Keys.rpc("t", "echo"), lambda m: Reply(ok=True, body={"seq": m.seq}))
    with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint]) as other:
        heard(other, Keys.rpc("t", "echo"), request=True)
        answer = other.request(Keys.rpc("t", "echo"), Heartbeat(agent="q", seq=42, pid=0))
        assert answer.body == {"seq": 42}
        raw = list(other.session.get(Keys.rpc("t", "echo"), payload=b"not json", timeout=2))
        refused = raw[0].ok.payload.to_bytes().decode()
    assert '"ok":false' in refused
    assert "malformed request" in refused
