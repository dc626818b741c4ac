"""The order operations (tools/orders) against a real gateway on the paper venue: ids that
derive from the turn, so a re-run sends nothing twice; reduce, close, cancel and halt; and
a symbol the desk does not trade refused with the book and the resting orders untouched."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import pytest

from core.models.market import Trade
from core.models.trading import Order, TradingState
from gateway import Gateway, Verdict
from tests.gateway_fixtures import T0, limits
from tools.instruments import InstrumentBook
from tools.orders import (
    CancelResult,
    HaltResult,
    OrderError,
    ReduceResult,
    Turn,
    cancel_open,
    close,
    edited_order,
    halt,
    order_for,
    reduce,
    send,
    sized_quantity,
)

PRICES = {"BTC/USD": 30_000.0, "ETH/USD": 2_000.0}


@pytest.fixture
def gateway() -> Gateway:
    gw = Gateway(limits(), clock=lambda: T0)
    for n, (symbol, price) in enumerate(PRICES.items()):
        gw.on_trade(
            Trade(venue_id="paper", symbol=symbol, ts=T0, trade_id=f"t-{n}", price=price,
                  quantity=50.0)
        )  # fmt: skip
    return gw


@pytest.fixture
def book(gateway: Gateway) -> InstrumentBook:
    return InstrumentBook.of(i.id for i in gateway.limits.instruments)


def held(gateway: Gateway) -> dict[str, float]:
    return {f"{p.venue_id}:{p.symbol}": p.quantity for p in gateway.positions() if p.quantity}


def buy(
    gateway: Gateway,
    book: InstrumentBook,
    turn: int,
    symbol: str,
    quantity: float,
    limit_price: float | None = None,
) -> Order:
    made = order_for(
        gateway, book, T0, Turn(thread="t", turn=turn), side="buy", quantity=quantity,
        symbol=symbol, limit_price=limit_price, strategy_id="momentum",
    )  # fmt: skip
    assert isinstance(made, Order), made
    return made


def test_a_rerun_turn_builds_the_same_order_and_the_gate_takes_it_once(
    gateway: Gateway, book: InstrumentBook
):
    first = buy(gateway, book, 3, "BTC", 0.1)
    # The key recorded cassettes and crash tests rely on: thread|turn|side|qty|instrument|...
    assert first.order_id == uuid5(NAMESPACE_URL, "t|3|buy|0.1|paper:BTC/USD|None|")
    assert first.client_order_id == f"qd-{first.order_id.hex[:24]}"
    assert send(gateway, first).verdict is Verdict.ACCEPT
    again = buy(gateway, book, 3, "BTC", 0.1)
    assert again == first
    assert send(gateway, again).verdict is Verdict.ACCEPT
    assert held(gateway) == {"paper:BTC/USD": pytest.approx(0.1)}, "sent once"
    assert buy(gateway, book, 4, "BTC", 0.1).order_id != first.order_id, "a new turn, a new id"


def test_an_edit_on_the_approval_card_is_a_new_order_with_a_derived_id(
    gateway: Gateway, book: InstrumentBook
):
    asked = buy(gateway, book, 1, "BTC", 0.1, limit_price=29_900.0)
    edited = edited_order(asked, {"quantity": 0.05})
    assert edited.order_id == uuid5(NAMESPACE_URL, f"{asked.order_id}|edit|{{'quantity': 0.05}}")
    assert edited.client_order_id == f"qd-{edited.order_id.hex[:24]}"
    assert (edited.quantity, edited.limit_price) == (0.05, 29_900.0)
    assert edited_order(asked, {"quantity": 0.05}) == edited, "the same edit, the same order"


def test_an_unknown_symbol_is_refused_and_nothing_changes(gateway: Gateway, book: InstrumentBook):
    send(gateway, buy(gateway, book, 1, "BTC", 0.2))
    resting = buy(gateway, book, 2, "ETH", 1.0, limit_price=1_950.0)
    send(gateway, resting)
    before = (held(gateway), gateway.open_orders())
    refused = order_for(
        gateway, book, T0, Turn(thread="t", turn=3), side="buy", quantity=1.0,
        symbol="DOGE", limit_price=None, strategy_id="momentum",
    )  # fmt: skip
    assert isinstance(refused, OrderError)
    assert refused.model_dump() == {"error": refused.line()}
    assert refused.error.startswith("no instrument 'DOGE' on this desk")
    for result in (
        close(gateway, book, T0, "DOGE", 1.0, "t|3"),
        cancel_open(gateway, book, "DOGE"),
        sized_quantity(gateway, book, lambda v, s: 1.0, "DOGE", 0.1),
    ):
        assert result == refused
    assert (held(gateway), gateway.open_orders()) == before


def test_a_reduce_cuts_whole_lots_once_per_instruction(gateway: Gateway, book: InstrumentBook):
    send(gateway, buy(gateway, book, 1, "BTC", 0.5))
    nothing = close(gateway, book, T0, "ETH", 0.5, "t|2")
    assert isinstance(nothing, ReduceResult)
    assert nothing.model_dump() == {"reduced": []}
    assert nothing.line() == "closed 50%: nothing held in paper:ETH/USD, nothing sent"
    half = reduce(gateway, T0, 0.5, "t|3")
    [report] = half.reduced
    assert (report.side, report.quantity, report.status) == ("sell", 0.25, "filled")
    assert half.line() == "reduced: sell 0.25 paper:BTC/USD ACCEPT"
    assert list(half.model_dump()) == ["reduced"], "the line's words stay out of the state"
    # The same instruction again (a re-run turn) builds the same order and sends nothing.
    [again] = reduce(gateway, T0, 0.5, "t|3").reduced
    assert (again.order_id, again.verdict, again.filled) == (report.order_id, "ACCEPT", 0.25)
    assert held(gateway) == {"paper:BTC/USD": pytest.approx(0.25)}


def test_cancel_touches_only_the_named_instrument_and_halt_the_rest(
    gateway: Gateway, book: InstrumentBook
):
    bid = buy(gateway, book, 1, "BTC", 0.1, limit_price=29_900.0)
    eth = buy(gateway, book, 2, "ETH", 1.0, limit_price=1_950.0)
    for order in (bid, eth):
        send(gateway, order)
    canceled = cancel_open(gateway, book, "ETH")
    assert canceled == CancelResult(canceled=[str(eth.order_id)], symbol="ETH")
    assert canceled.line() == "canceled 1 open orders in ETH"
    assert gateway.open_orders() == [bid.order_id]
    stopped = halt(gateway, "pm", "stop everything")
    assert stopped == HaltResult(canceled=[str(bid.order_id)])
    assert stopped.model_dump() == {"halted": True, "canceled": [str(bid.order_id)]}
    assert gateway.trading_state is TradingState.HALTED
    assert cancel_open(gateway, book).line() == "no open orders to cancel"


def test_a_share_of_equity_is_sized_in_whole_lots(gateway: Gateway, book: InstrumentBook):
    assert sized_quantity(gateway, book, lambda v, s: 2_000.0, "ETH", 0.1) == 50.0
    tiny = sized_quantity(gateway, book, lambda v, s: 2_000.0, "ETH", 1e-7)
    assert tiny == OrderError(error="0% of equity buys less than one lot (0.01) of paper:ETH/USD")
    unpriced = sized_quantity(gateway, book, lambda v, s: None, "BTC", 0.1)
    assert isinstance(unpriced, OrderError)
    assert unpriced.error.startswith("no price for")
