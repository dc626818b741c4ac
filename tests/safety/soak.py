"""The kill soak: the scripted desk killed with SIGKILL at random moments, round after round,
each round restarted until it finishes; then the books are checked.

    python -m tests.safety.soak --rounds 30 --seed 7

prints the kills, and the duplicated and lost orders (both must be 0)."""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.models.market import SessionCalendar
from core.store import Store
from tests.safety.books import Books, read_books
from tests.safety.conftest import start_desk
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS


@dataclass(frozen=True)
class SoakResult:
    rounds: int
    kills: int
    """Runs killed before they finished."""
    finished_early: int
    """Runs that finished before their kill came."""
    books: Books


def _finish(desk_dir: Path, round_no: int) -> None:
    process = start_desk(desk_dir, round_no=round_no)
    out, _ = process.communicate(timeout=300)
    if process.returncode != 0 or not out.strip().endswith("DONE"):
        raise RuntimeError(f"round {round_no} did not finish after a restart:\n{out[-3000:]}")


def soak(desk_dir: Path, rounds: int, seed: int) -> SoakResult:
    """Round 0 runs clean and times a run; every later round is killed at a random moment of
    a run's length, then restarted to finish."""
    rng = random.Random(seed)
    started = time.monotonic()
    _finish(desk_dir, 0)
    span = time.monotonic() - started
    kills = early = 0
    for round_no in range(1, rounds):
        process = start_desk(desk_dir, round_no=round_no)
        try:
            process.communicate(timeout=rng.uniform(0.1 * span, 0.9 * span))
            early += 1
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            kills += 1
        _finish(desk_dir, round_no)
    return SoakResult(rounds, kills, early, read_books(desk_dir, rounds))


def _loaded_dir(root: Path) -> Path:
    crypto = DATASETS["crypto"].read()
    btc = crypto[(crypto["venue"] == "bitstamp") & (crypto["symbol"] == "BTC/USD")]
    desk = root / "desk"
    with Store(f"chdb://{desk / 'clickhouse'}") as store:
        store.migrate()
        ingest_bars(
            store, pd.DataFrame(btc).reset_index(drop=True), source="crypto",
            calendar=SessionCalendar.CONTINUOUS,
        )  # fmt: skip
    return desk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="quantdesk-soak-"))
    try:
        result = soak(_loaded_dir(root), args.rounds, args.seed)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    books = result.books
    print(
        f"rounds {result.rounds}, killed runs {result.kills}, finished before the kill "
        f"{result.finished_early}, orders booked {len(books.filled)} of {len(books.expected)}, "
        f"duplicated {books.duplicated}, lost {books.lost}, problems {books.problems()}"
    )


if __name__ == "__main__":
    main()
