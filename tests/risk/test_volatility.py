"""The desk's one realised volatility (tools.risk.realised_volatility) against a hand
computation, and the book's figure built on it."""

from __future__ import annotations

import math
from itertools import pairwise

import pandas as pd
import pytest

from tools.risk import book_volatility, realised_volatility


def closes(values: list[float], days: list[int]) -> pd.Series:
    start = pd.Timestamp("2024-01-01", tz="UTC")  # a Monday
    return pd.Series(values, index=[start + pd.Timedelta(days=d) for d in days])


def test_log_returns_sample_std_and_365_25_returns_a_year_for_consecutive_days():
    # ln(110/100) = 0.0953102, ln(99/110) = -0.1053605, ln(105/99) = 0.0588405;
    # mean 0.0162634; sample variance (0.0790468^2 + 0.1216239^2 + 0.0425771^2) / 2
    # = 0.0114268, std 0.1068962; x sqrt(365.25) = 2.0429476.
    assert realised_volatility(closes([100, 110, 99, 105], [0, 1, 2, 3])) == pytest.approx(
        2.0429476, abs=1e-7
    )


def test_a_weekday_market_counts_its_gaps():
    # Mon..Fri then the next Mon: 5 returns over 7 days, 5 / (7 / 365.25) = 260.9 a year.
    prices = [100, 101, 99, 102, 103, 100]
    returns = [math.log(b / a) for a, b in pairwise(prices)]
    mean = sum(returns) / 5
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 4)
    vol = realised_volatility(closes(prices, [0, 1, 2, 3, 4, 7]))
    assert vol == pytest.approx(std * math.sqrt(5 / (7 / 365.25)), rel=1e-12)
    assert vol == pytest.approx(0.3922636, abs=1e-7)


def test_order_does_not_matter_and_too_little_or_bad_data_gives_none():
    series = closes([100, 110, 99, 105], [0, 1, 2, 3])
    assert realised_volatility(series.iloc[::-1]) == realised_volatility(series)
    assert realised_volatility(closes([100, 110], [0, 1])) is None
    assert realised_volatility(closes([100, 0, 105], [0, 1, 2])) is None


def test_the_book_is_its_weight_times_the_instrument_when_it_holds_one():
    series = closes([100, 110, 99, 105, 104, 108], [0, 1, 2, 3, 4, 5])
    vol = realised_volatility(series)
    assert vol is not None
    book = book_volatility({"x": series}, {"x": -25_000.0}, 100_000.0)
    assert book == pytest.approx(0.25 * vol, rel=1e-12)
    assert book_volatility({}, {}, 100_000.0) == 0.0
