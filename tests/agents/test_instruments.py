"""Exact instruments: a symbol resolves with its quote currency and venue, and one the desk
does not hold is never mapped to another (it was: "buy 0.01 BTC/EUR" filled BTC/USD)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models.trading import TradingState
from core.settings import Settings
from core.store import Store, TradeLog
from graph.session import DeskSession
from tools.instruments import Instrument, InstrumentBook, NoInstrument

DEFAULT = InstrumentBook.of(["bitstamp:BTC/USD", "bitstamp:ETH/USD", "nasdaq:GOOG"])
TRADABLE = "bitstamp:BTC/USD, bitstamp:ETH/USD, nasdaq:GOOG"


@pytest.mark.parametrize(
    ("asked", "instrument"),
    [
        ("BTC", "bitstamp:BTC/USD"),
        ("btc", "bitstamp:BTC/USD"),
        ("BTC/USD", "bitstamp:BTC/USD"),
        ("btc/usd", "bitstamp:BTC/USD"),
        ("bitstamp:BTC/USD", "bitstamp:BTC/USD"),
        ("BITSTAMP:btc/usd", "bitstamp:BTC/USD"),
        ("bitstamp:BTC", "bitstamp:BTC/USD"),
        ("ETH", "bitstamp:ETH/USD"),
        ("GOOG", "nasdaq:GOOG"),
        ("nasdaq:GOOG", "nasdaq:GOOG"),
    ],
)
def test_a_held_symbol_resolves_to_exactly_its_instrument(asked: str, instrument: str):
    found = DEFAULT.resolve(asked)
    assert isinstance(found, Instrument)
    assert found.id == instrument


@pytest.mark.parametrize(
    "asked",
    [
        "BTC/EUR",
        "eth/btc",
        "ETH/BTC",
        "DOGE",
        "USD",
        "kraken:BTC/USD",
        "nasdaq:BTC/USD",
        "GOOG/USD",
        "A" * 40,
        "BTC/USD/EUR",
        "\u0412\u0422\u0421",  # Cyrillic look-alikes of B, T, C
        "",
    ],
)
def test_a_symbol_the_desk_does_not_hold_is_never_mapped_to_another(asked: str):
    found = DEFAULT.resolve(asked)
    assert isinstance(found, NoInstrument)
    assert found.candidates == ()
    assert f"it trades {TRADABLE}" in found.message
    assert asked[:40] in found.message


def test_a_bare_base_held_twice_is_ambiguous_and_names_both():
    book = InstrumentBook.of(["bitstamp:BTC/USD", "bitstamp:BTC/EUR", "kraken:BTC/USD"])
    bare = book.resolve("BTC")
    assert isinstance(bare, NoInstrument)
    assert bare.candidates == ("bitstamp:BTC/EUR", "bitstamp:BTC/USD", "kraken:BTC/USD")
    assert "say which" in bare.message
    pair = book.resolve("BTC/USD")
    assert isinstance(pair, NoInstrument)
    assert pair.candidates == ("bitstamp:BTC/USD", "kraken:BTC/USD")
    exact = book.resolve("kraken:BTC/USD")
    assert isinstance(exact, Instrument)
    assert exact.id == "kraken:BTC/USD"
    euro = book.resolve("btc/eur")
    assert isinstance(euro, Instrument)
    assert euro.id == "bitstamp:BTC/EUR"


def test_the_desk_trades_only_the_instrument_named(btc_store: Store, tmp_path: Path):
    with DeskSession(Settings(data_dir=tmp_path / "desk"), btc_store) as desk:
        for request in ("buy 0.01 BTC/EUR", "buy 0.1 eth/btc", "buy 0.01 kraken:BTC/USD"):
            turn = desk.ask(request, request)
            assert turn.trace == ["pm", "execution"]
            [answer] = turn.answers
            assert answer.startswith("no instrument"), answer
            assert TRADABLE in answer
            assert TradeLog(btc_store).fills() == [], request
        assert desk.desk.gateway.positions() == []
        exact = desk.ask("buy 0.01 bitstamp:BTC/USD", "exact")
        assert exact.results["execution"]["symbol"] == "bitstamp:BTC/USD"
        assert exact.results["execution"]["status"] == "filled"
        [position] = desk.desk.gateway.positions()
        assert (position.venue_id, position.symbol) == ("bitstamp", "BTC/USD")
        assert desk.desk.gateway.trading_state is TradingState.ACTIVE


def test_research_on_a_symbol_the_desk_does_not_hold_runs_on_nothing_else(
    btc_store: Store, tmp_path: Path
):
    with DeskSession(Settings(data_dir=tmp_path / "desk"), btc_store) as desk:
        turn = desk.ask("find a momentum strategy for BTC/EUR and paper-trade it", "r")
    assert turn.trace == ["pm", "research"]
    assert "no instrument 'BTC/EUR'" in turn.answers[0]
    assert TradeLog(btc_store).fills() == []
