"""Execution and risk mark positions to the streamed bars: the bars the stream dataflow
publishes on desk/md reach execution's paper venue (a resting order fills when the stream
trades through it, equity moves with the streamed close) and risk (a streamed rally breaches
the gross limit and risk reduces). Real service processes on a loopback Zenoh bus; the bars
come from this test's peer exactly as the dataflow's bus sink builds them."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.services.stream_marks import StreamMarks
from core.bus import Bus, FillEvent, Keys, MarketBar, OrderRequest
from core.models.market import Bar
from tests.services.conftest import Launch, state, until_gate
from tests.waiting import wait_until
from tools.stream.bars import BarSoFar, StreamBar
from tools.stream.outputs import bus_message

BTC = "bitstamp:BTC/USD"


def streamed(
    at: datetime, open_: float, close: float, instrument: str = BTC, volume: float = 5_000.0
) -> MarketBar:
    """The dataflow's announcement of a closed one-minute bar."""
    venue, symbol = instrument.split(":", 1)
    bar = BarSoFar(open_, max(open_, close), min(open_, close), close, volume, 70)
    key, message = bus_message(StreamBar(venue, symbol, "1m", at, bar))
    assert key == Keys.market_data(venue, symbol)
    assert isinstance(message, MarketBar)
    return message


def test_pending_bars_keep_the_newest_and_never_step_back():
    taken: list[Bar] = []
    marks = StreamMarks({BTC}, taken.append)
    lock = threading.RLock()
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    marks.heard(streamed(t0 + timedelta(minutes=1), 100, 101), "k")
    marks.heard(streamed(t0, 100, 99), "k")  # late: the newer one waits
    marks.heard(streamed(t0, 5, 6, "bitstamp:XRP/USD"), "k")  # not traded here
    gate_bar = streamed(t0 + timedelta(minutes=5), 100, 200).model_copy(update={"source": "gate"})
    marks.heard(gate_bar, "k")  # execution's own bars are not read back
    assert marks.apply(lock) == 1
    assert [(b.ts, b.close) for b in taken] == [(t0 + timedelta(minutes=1), 101)]
    marks.heard(streamed(t0, 100, 50), "k")  # older than what the gate has
    assert marks.apply(lock) == 0
    assert len(taken) == 1


def test_bars_wait_while_the_desk_is_busy():
    taken: list[Bar] = []
    marks = StreamMarks({BTC}, taken.append)
    lock = threading.RLock()
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    marks.heard(streamed(t0, 100, 101), "k")
    holder = threading.Thread(target=lambda: (lock.acquire(), done.wait(), lock.release()))
    done = threading.Event()
    holder.start()
    try:
        wait_until(lambda: not lock.acquire(blocking=False) or lock.release(), 5, what="held")
        assert marks.apply(lock) == 0  # a turn holds the desk: the bar waits, nothing blocks
    finally:
        done.set()
        holder.join()
    assert marks.apply(lock) == 1
    assert taken[0].close == 101


def test_a_bar_the_gate_refuses_is_counted_and_the_next_one_is_taken():
    def gate(bar: Bar) -> None:
        if bar.close > 1_000:
            raise ValueError("not a valid bar")

    marks = StreamMarks({BTC}, gate)
    lock = threading.RLock()
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    marks.heard(streamed(t0, 1_000, 2_000), "k")
    assert marks.apply(lock) == 0
    assert marks.refused == 1
    marks.heard(streamed(t0, 100, 101), "k")  # the refused bar moved nothing: same stamp ok
    assert marks.apply(lock) == 1


@pytest.mark.timeout(180)
def test_execution_and_risk_mark_to_the_streamed_bars(
    launch: Launch, peer: Bus, tight_limits: Path
):
    fills: list[FillEvent] = []
    commands = []
    peer.subscribe(Keys.ALL_FILLS, lambda m, k: fills.append(m) if isinstance(m, FillEvent) else 0)
    peer.subscribe(Keys.RISK_COMMANDS, lambda m, k: commands.append(m))
    launch("execution", QUANTDESK_LIMITS_PATH=str(tight_limits))
    launch("risk", QUANTDESK_LIMITS_PATH=str(tight_limits))
    until_gate(peer, "active", 10)
    probe = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=0.01, symbol="BTC", requested_by="test"),
    )
    assert probe.body["verdict"] == "ACCEPT", probe
    wait_until(lambda: fills, 10, what="the probe's fill")
    price = fills[-1].price
    # Resting below the market: it fills only when a streamed bar trades down through it.
    quantity = round(25_000 / price, 4)
    limit = round(price * 0.98, 2)
    resting = peer.request(
        Keys.rpc("execution", "submit"),
        OrderRequest(side="buy", quantity=quantity, symbol="BTC", limit_price=limit,
                     strategy_id="momentum", requested_by="test"),
    )  # fmt: skip
    assert resting.body["verdict"] == "ACCEPT", resting
    assert resting.body["filled"] == 0
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    # Thin enough that no one print fills it: the paper venue takes a tenth of each print's
    # quarter of the volume, 0.8 BTC at the low and 0.8 at the close.
    peer.publish(
        Keys.market_data("bitstamp", "BTC/USD"), streamed(start, price, price * 0.97, volume=32)
    )
    wait_until(
        lambda: state(peer).body["positions"].get(BTC, 0) >= 0.01 + quantity - 1e-9,
        15,
        what="the resting buy filled by the streamed bar",
        show=lambda: (state(peer).body, fills[-2:]),
    )
    assert any(f.price <= limit for f in fills[1:])
    held = state(peer).body["positions"][BTC]
    # One bar filled the order in several prints: each fill says where it left the position.
    steps = [(f.quantity, f.position_after) for f in fills]
    for (_, before), (quantity, after) in itertools.pairwise(steps):
        assert after == pytest.approx(before + quantity), steps
    assert steps[-1][1] == pytest.approx(held)
    # Marks follow the stream: equity moves by the holding times the close's change.
    before = state(peer).body["equity"]
    close = price * 1.1
    peer.publish(
        Keys.market_data("bitstamp", "BTC/USD"),
        streamed(start + timedelta(minutes=1), price * 0.97, close),
    )
    wait_until(
        lambda: (
            state(peer).body["equity"]
            == pytest.approx(before + held * (close - price * 0.97), rel=1e-6)
        ),
        15,
        what="equity marked to the streamed close",
        show=lambda: (before, state(peer).body),
    )
    assert commands == []  # about 28k of a 50k cap: no breach yet
    # A rally on the stream alone takes the book past 90% of the cap: risk reduces.
    peer.publish(
        Keys.market_data("bitstamp", "BTC/USD"),
        streamed(start + timedelta(minutes=2), close, price * 2.5),
    )
    wait_until(
        lambda: [c.action for c in commands] == ["reduce"],
        15,
        what="risk's reduce on the streamed rally",
        show=lambda: (commands, state(peer).body),
    )
    assert "gross exposure" in commands[0].reason
    wait_until(
        lambda: state(peer).body["positions"][BTC] < held,
        15,
        what="execution reducing the position",
        show=lambda: state(peer).body,
    )
