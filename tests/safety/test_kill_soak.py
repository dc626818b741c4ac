"""A short kill soak in the suite (the long one: `python -m tests.safety.soak`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.safety.soak import soak


@pytest.mark.slow
def test_random_kills_round_after_round_double_and_lose_nothing(desk_dir: Path):
    result = soak(desk_dir, rounds=4, seed=11)
    assert result.books.problems() == []
    assert (result.books.duplicated, result.books.lost) == (0, 0)
    # The soak proves something only if it did kill runs mid-way.
    assert result.kills >= 1
