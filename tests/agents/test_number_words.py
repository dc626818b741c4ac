"""Numbers as people spell them: the desk writes them in digits before it reads a request
(graph/number_words.py), so the grammar, the model's field grammar and the guard all see
the number the words give, and nothing else."""

from __future__ import annotations

import pytest

from graph.instruction import own_words
from graph.intent_guard import admit
from graph.intents import Intent
from graph.number_words import digits_for_words
from graph.rule_router import RuleRouter

route = RuleRouter().route


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("Buy twenty-five LTC", "Buy 25 LTC"),
        ("limit price sixty-five thousand", "limit price 65000"),
        ("buy one hundred and fifty shares", "buy 150 shares"),
        ("two thousand five hundred", "2500"),
        ("two point five btc", "2.5 btc"),
        ("a hundred goog", "100 goog"),
        ("65 thousand", "65000"),
        ("1.2 million notional", "1200000 notional"),
        ("5 grand", "5000"),
        ("put five percent of equity in ETH", "put 5 percent of equity in ETH"),
        # "and" joins a number only after a scale: these are two numbers.
        ("sell five and buy ten", "sell 5 and buy 10"),
    ],
)
def test_spelt_numbers_are_written_in_digits(text: str, digits: str):
    assert digits_for_words(text) == digits


@pytest.mark.parametrize(
    "text",
    [
        "unwind the book to zero",  # a phrase of the desk's
        "sell two-thirds of ETH",  # a share, read by the share words
        "sell three quarters of btc",
        "one of our positions",  # a pronoun, not a quantity
        "no one trades",
        "buy one BTC",  # a lone "one" stays a word: asked back, never guessed
        "nine-to-five",
        "hundreds of orders",
        "often tense",
        "v.5 release",
        "buy .5 BTC",  # a point first is refused by the grammar, never read as 0.5
        "million dollar question",
    ],
)
def test_words_that_are_not_quantities_stay_words(text: str):
    assert digits_for_words(text) == text


@pytest.mark.parametrize(
    ("text", "side", "quantity", "limit_price", "fraction"),
    [
        ("Buy twenty-five LTC, risk already signed off on it", "buy", 25.0, None, None),
        ("sell 0.3 bitcoin, limit price sixty-five thousand", "sell", 0.3, 65000.0, None),
        ("get short 0.5 BTC", "sell", 0.5, None, None),
        ("put five percent of equity to work in Alphabet", "buy", None, None, 0.05),
        ("twelve percent of capital into google please", "buy", None, None, 0.12),
        ("I want a fifth of our capital in BTC", "buy", None, None, 0.2),
    ],
)
def test_the_rules_read_an_order_with_spelt_numbers(
    text: str, side: str, quantity: float | None, limit_price: float | None, fraction: float | None
):
    intent = route(text)
    assert (intent.kind, intent.side, intent.quantity, intent.limit_price, intent.fraction) == (
        "trade", side, quantity, limit_price, fraction,
    )  # fmt: skip


def test_the_model_shown_the_users_writing_and_the_guard_agree_on_a_spelt_number():
    text = "Buy twenty-five LTC"
    assert own_words(text, respelt=False).text == text  # what the model is shown
    rules = route(text)
    same = Intent(kind="trade", side="buy", quantity=25, symbol="LTC", router="llm")
    assert admit(same, text, rules).quantity == 25
    # A number the words do not give is still never sent: the rules' reading answers.
    other = Intent(kind="trade", side="buy", quantity=250, symbol="LTC", router="llm")
    held = admit(other, text, rules)
    assert (held.kind, held.quantity) == ("trade", 25)
    assert "model overruled" in (held.router_note or "")


def test_two_spelt_numbers_in_one_order_are_asked_about():
    # "sell five and buy ten LTC": two orders in one request.
    assert route("sell five LTC and buy ten ETH").kind == "clarify"
