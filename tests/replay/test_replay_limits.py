"""An instrument of the replay's universe that the desk's limits do not name trades under
the first USD instrument's limits rescaled to the same notional at the replay's start, so a
cheap coin is not capped at a dear one's unit count; the gateway accepts the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from gateway.limits import DEFAULT_LIMITS, load_limits
from interfaces.replay.setup import (
    ReplayConfig,
    ReplayConfigError,
    reference_prices,
    replay_limits,
)

UNIVERSE = ("bitstamp:BTC/USD", "bitstamp:LTC/USD")
CONFIG = ReplayConfig(start=date(2019, 1, 1), end=date(2019, 2, 1), universe=UNIVERSE)


def test_an_unnamed_instrument_gets_the_templates_notional_in_its_own_units(tmp_path: Path):
    written = replay_limits(
        DEFAULT_LIMITS, CONFIG, tmp_path / "limits.yaml",
        {"bitstamp:BTC/USD": (4000.0, date(2018, 12, 31)),
         "bitstamp:LTC/USD": (32.0, date(2018, 12, 31))},
    )  # fmt: skip
    limits = load_limits(written)  # validated by pydantic and by the Rust engine
    by_id = {i.id: i for i in limits.instruments}
    btc, ltc = by_id["bitstamp:BTC/USD"], by_id["bitstamp:LTC/USD"]
    assert ltc.max_position * 32.0 == pytest.approx(btc.max_position * 4000.0)
    assert ltc.max_quantity == pytest.approx(btc.max_quantity * 125)
    assert ltc.max_notional == btc.max_notional
    assert ltc.lot == pytest.approx(0.001)  # 0.00001 x 125, down to a power of ten
    assert ltc.min_quantity == pytest.approx(0.001)
    assert "rescaled to the same notional" in written.read_text()


def test_without_a_price_to_rescale_by_the_replay_refuses_to_guess(tmp_path: Path):
    with pytest.raises(ReplayConfigError, match="no price for bitstamp:LTC/USD"):
        replay_limits(
            DEFAULT_LIMITS, CONFIG, tmp_path / "limits.yaml",
            {"bitstamp:BTC/USD": (1.0, date(2018, 12, 31))},
        )  # fmt: skip
    assert not (tmp_path / "limits.yaml").exists()


def test_reference_prices_are_the_last_positive_close_before_the_start_or_the_first():
    frame = pd.DataFrame(
        {
            "venue": ["bitstamp"] * 4,
            "symbol": ["LTC/USD"] * 4,
            "ts": pd.to_datetime(
                ["2018-12-30", "2018-12-31", "2018-12-31", "2019-01-01"], utc=True
            ),
            "close": [30.0, 31.0, 0.0, 99.0],
        }
    )
    assert reference_prices(frame, date(2019, 1, 1)) == {
        "bitstamp:LTC/USD": (31.0, date(2018, 12, 31))
    }
    # Listed after the start: its first close, the day it lists.
    assert reference_prices(frame, date(2018, 1, 1)) == {
        "bitstamp:LTC/USD": (30.0, date(2018, 12, 30))
    }
