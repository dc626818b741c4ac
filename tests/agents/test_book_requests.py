"""Requests about the book as a whole or one holding, end to end on real bars with the rule
router: a close takes its size from the book ("sell half our ETH" with no ETH held sends
nothing, never a short), a share-sized buy from equity, flatten and cancel touch only what
is there, and resume never lifts a halt from chat."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store, TradeLog
from graph.session import DeskSession
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS


@pytest.fixture
def loaded(store: Store, bitstamp_btc_raw: pd.DataFrame, goog_raw: pd.DataFrame) -> Store:
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    ingest_bars(store, goog_raw, source="goog", calendar=SessionCalendar.WEEKDAYS)
    return store


def session(store: Store, tmp_path: Path) -> DeskSession:
    return DeskSession(Settings(data_dir=tmp_path / "desk"), store)


def held(desk: DeskSession, instrument: str) -> float:
    return sum(
        p.quantity
        for p in desk.desk.gateway.positions()
        if f"{p.venue_id}:{p.symbol}" == instrument
    )


def test_a_close_is_sized_from_the_book_and_never_opens_a_short(loaded: Store, tmp_path: Path):
    with session(loaded, tmp_path) as desk:
        # Nothing held: "sell half" sends nothing (the issue saw it become "sell 0.5 ETH").
        nothing = desk.ask("sell half of our ETH position", "c")
        assert nothing.trace == ["pm", "execution"]
        assert nothing.results["execution"]["reduced"] == []
        assert "nothing held in bitstamp:ETH/USD" in nothing.answers[-1]
        assert TradeLog(loaded).fills() == []
        assert desk.ask("buy 0.5 BTC", "c").results["execution"]["status"] == "filled"
        half = desk.ask("sell half our bitcoin", "c")
        [order] = half.results["execution"]["reduced"]
        assert (order["side"], order["quantity"], order["status"]) == ("sell", 0.25, "filled")
        assert held(desk, "bitstamp:BTC/USD") == pytest.approx(0.25)
        desk.ask("close the BTC position", "c")
        assert held(desk, "bitstamp:BTC/USD") == pytest.approx(0.0)
        # Flat now: closing again sends nothing.
        assert desk.ask("close the BTC position", "c").results["execution"]["reduced"] == []


def test_a_share_of_the_account_is_sized_from_equity(btc_store: Store, tmp_path: Path):
    with session(btc_store, tmp_path) as desk:
        equity = desk.desk.gateway.equity
        price = desk.desk.reference_price("bitstamp", "BTC/USD")
        lot = next(i.lot for i in desk.desk.limits.instruments if i.id == "bitstamp:BTC/USD")
        assert price
        turn = desk.ask("put 1% of the account into bitcoin", "s")
        out = turn.results["execution"]
        expected = int(0.01 * equity / price / lot) * lot  # whole lots, rounded down
        assert (out["side"], out["status"]) == ("buy", "filled"), turn.answers
        assert out["quantity"] == pytest.approx(expected)
        assert out["quantity"] * price <= 0.01 * equity
        # An instrument the desk does not trade is refused by name, nothing sized or sent.
        ltc = desk.ask("put 10% into LTC", "s")
        assert "no instrument 'LTC'" in ltc.answers[-1]
        assert len(TradeLog(btc_store).fills()) == 1


def test_flatten_closes_every_position(btc_store: Store, tmp_path: Path):
    with session(btc_store, tmp_path) as desk:
        desk.ask("buy 0.5 BTC", "f")
        desk.ask("buy 0.5 BTC", "g")
        flat = desk.ask("flatten the book", "f")
        assert [(o["symbol"], o["quantity"]) for o in flat.results["execution"]["reduced"]] == [
            ("bitstamp:BTC/USD", 1.0)
        ]
        assert all(p.quantity == 0 for p in desk.desk.gateway.positions())


def test_cancel_cancels_resting_orders_only(loaded: Store, tmp_path: Path):
    with session(loaded, tmp_path) as desk:
        desk.ask("buy 0.5 BTC", "o")
        price = desk.desk.reference_price("bitstamp", "BTC/USD")
        assert price
        resting = desk.ask(f"buy 0.1 BTC at {round(price * 0.97, 2)}", "o")
        assert resting.results["execution"]["status"] not in ("filled", "not taken")
        assert len(desk.desk.gateway.open_orders()) == 1
        canceled = desk.ask("cancel all open orders", "o")
        assert canceled.results["execution"]["canceled"] == [
            resting.results["execution"]["order_id"]
        ]
        assert desk.desk.gateway.open_orders() == []
        assert held(desk, "bitstamp:BTC/USD") == pytest.approx(0.5), "positions untouched"


def test_a_cancel_that_names_an_instrument_cancels_only_its_orders(store: Store, tmp_path: Path):
    crypto = DATASETS["crypto"].read()
    bitstamp = crypto[crypto["venue"] == "bitstamp"].reset_index(drop=True)
    ingest_bars(store, bitstamp, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    with session(store, tmp_path) as desk:
        btc = desk.desk.reference_price("bitstamp", "BTC/USD")
        eth = desk.desk.reference_price("bitstamp", "ETH/USD")
        assert btc
        assert eth
        btc_bid = desk.ask(f"buy 0.1 BTC at {round(btc * 0.97, 2)}", "n")
        eth_bid = desk.ask(f"buy 1 ETH at {round(eth * 0.97, 2)}", "n")
        assert len(desk.desk.gateway.open_orders()) == 2, (btc_bid.answers, eth_bid.answers)
        canceled = desk.ask("cancel the resting ETH limit", "n")
        assert canceled.results["execution"]["canceled"] == [
            eth_bid.results["execution"]["order_id"]
        ]
        assert [str(o) for o in desk.desk.gateway.open_orders()] == [
            btc_bid.results["execution"]["order_id"]
        ]
        # An instrument the desk does not trade is refused by name; nothing is canceled.
        refused = desk.ask("cancel the resting LTC orders", "n")
        assert "no instrument 'LTC'" in refused.answers[-1]
        assert len(desk.desk.gateway.open_orders()) == 1


def test_resume_never_lifts_a_halt_from_chat(loaded: Store, tmp_path: Path):
    with session(loaded, tmp_path) as desk:
        assert "nothing to resume" in desk.ask("resume trading", "r").answers[-1]
        desk.ask("halt everything", "r")
        answer = desk.ask("turn trading back on", "r").answers[-1]
        assert "quantdesk gateway rearm --by NAME" in answer
        assert desk.desk.gateway.trading_state.value == "halted"


def test_prices_and_correlations_are_read_from_the_store(store: Store, tmp_path: Path):
    crypto = DATASETS["crypto"].read()
    ingest_bars(
        store, crypto[crypto["venue"] == "bitstamp"].reset_index(drop=True),
        source="crypto", calendar=SessionCalendar.CONTINUOUS,
    )  # fmt: skip
    with session(store, tmp_path) as desk:
        price = desk.ask("where is bitcoin trading?", "p")
        assert price.trace == ["pm", "data"]
        close = price.results["data"]["prices"]["bitstamp:BTC/USD"]["close"]
        assert close == pytest.approx(desk.desk.reference_price("bitstamp", "BTC/USD"))
        turn = desk.ask("how correlated are BTC and ETH?", "p")
        table = turn.results["risk"]["market_correlations"]
        pair = table["bitstamp:BTC/USD"]["bitstamp:ETH/USD"]
        assert 0.3 < pair <= 1, "BTC and ETH daily returns move together"
        assert table["bitstamp:ETH/USD"]["bitstamp:BTC/USD"] == pair
        assert f"{pair:+.2f}" in turn.answers[-1]
