"""The order path stopped dead (SIGKILL) at each named point, then the desk restarted and the
run finished: no order doubled, none lost, the position equal to the booked fills, every fill
joined to its gate decision, no approval left hanging."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from core.faults import CRASH_POINTS
from tests.safety.books import read_books
from tests.safety.conftest import RunDesk

# Points passed more than once in a run are also crashed at a later pass: the approved order's
# second gate decision, the last order's checkpoint, the booking of the last fill.
LATER_PASSES = ("gate.decided:4", "venue.acked:2", "fill.booked:2", "checkpoint.before:3")


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", [*CRASH_POINTS, *LATER_PASSES])
def test_a_crash_at_any_point_of_the_order_path_loses_and_doubles_nothing(
    run_desk: RunDesk, desk_dir: Path, crash_at: str
):
    crashed = run_desk(crash_at)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout[-3000:]
    assert "DONE" not in crashed.stdout
    finished = run_desk()
    assert finished.returncode == 0, finished.stdout[-3000:]
    assert finished.stdout.strip().endswith("DONE")
    books = read_books(desk_dir)
    assert books.problems() == []
    assert (books.duplicated, books.lost) == (0, 0)


def test_the_scripted_run_books_each_order_once_without_a_crash(run_desk: RunDesk, desk_dir: Path):
    assert run_desk().returncode == 0
    # A second run finds everything done and sends nothing.
    again = run_desk()
    assert again.returncode == 0
    assert again.stdout.strip().endswith("DONE")
    assert read_books(desk_dir).problems() == []
