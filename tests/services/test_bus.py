"""The bus itself: 100k messages from another process with blocking congestion control all
arrive, in order; malformed messages are logged and dropped and the subscriber lives on;
request/reply answers and refuses junk."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from core.bus import Bus, Heartbeat, Keys, Reply
from tests.fakes.loopback import free_port

BURST = 100_000
PUBLISHER = """
import sys, time
from core.bus import Bus, Heartbeat, Keys
with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[sys.argv[1]]) as bus:
    time.sleep(float(sys.argv[3]))
    for i in range(int(sys.argv[2])):
        bus.publish(Keys.health("burst"), Heartbeat(agent="burst", seq=i, pid=0))
    time.sleep(1)
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
    done = threading.Event()

    def on(message, key):
        seen.append(message.seq)
        if len(seen) == BURST:
            done.set()

    bus.subscribe(Keys.health("burst"), on)
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", PUBLISHER, endpoint, str(BURST), "2"], check=True, timeout=300
    )
    assert done.wait(60), f"{len(seen)} of {BURST} arrived"
    print(f"{BURST} messages in {time.monotonic() - start:.1f} s")
    assert seen == list(range(BURST))


def test_malformed_messages_are_dropped_and_the_subscriber_lives(hub_bus: tuple[Bus, str]):
    bus, endpoint = hub_bus
    got: list[int] = []
    sub = bus.subscribe(Keys.ALL_HEALTH, lambda m, k: got.append(m.seq))
    with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint]) as other:
        time.sleep(1)
        for junk in (b"garbage", b"{}", b'{"type": "heartbeat"}', b'{"type": "order_request",'
                     b'"side": "buy", "quantity": -1, "symbol": "BTC", "requested_by": "x"}',
                     "\u00ff".encode("latin-1")):  # fmt: skip
            other.session.put(Keys.health("x"), junk)
        other.publish(Keys.health("x"), Heartbeat(agent="x", seq=7, pid=0))
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
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
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got == [1, 2]
    assert sub.counters.failed == 1


def test_request_reply_and_a_malformed_request(hub_bus: tuple[Bus, str]):
    bus, endpoint = hub_bus
    bus.serve(Keys.rpc("t", "echo"), lambda m: Reply(ok=True, body={"seq": m.seq}))
    with Bus.open("peer", listen=["tcp/127.0.0.1:0"], connect=[endpoint]) as other:
        time.sleep(1)
        answer = other.request(Keys.rpc("t", "echo"), Heartbeat(agent="q", seq=42, pid=0))
        assert answer.body == {"seq": 42}
        raw = list(other.session.get(Keys.rpc("t", "echo"), payload=b"not json", timeout=2))
        refused = raw[0].ok.payload.to_bytes().decode()
    assert '"ok":false' in refused
    assert "malformed request" in refused
