"""The store on real chdb: migrations, round trips, idempotent writes, the one-holder rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.store import (
    TABLES,
    BarFrameError,
    MarketDataStore,
    Store,
    StoreConfigError,
    StoreLockedError,
)
from core.store.migrate import applied_versions, available_migrations


def test_migrations_apply_once_in_order(store: Store):
    versions = [m.version for m in available_migrations()]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert applied_versions(store.client) == set(versions)
    assert store.migrate() == []
    assert set(store.row_counts()) == set(TABLES)


def test_bars_round_trip_with_utc_times(store: Store, goog_raw: pd.DataFrame):
    md = MarketDataStore(store)
    result = md.write_bars(goog_raw)
    assert result.inserted == len(goog_raw)
    window = md.read_bars("nasdaq", "GOOG", "1d", start="2010-01-01", end="2011-01-01")
    assert str(window["ts"].dt.tz) == "UTC"
    assert window["ts"].min() >= pd.Timestamp("2010-01-01", tz="UTC")
    assert window["ts"].max() < pd.Timestamp("2011-01-01", tz="UTC")
    expected = goog_raw[(goog_raw["ts"] >= "2010-01-01") & (goog_raw["ts"] < "2011-01-01")]
    assert len(window) == len(expected) == 252
    [summary] = md.series()
    assert (summary.venue, summary.symbol, summary.bars) == ("nasdaq", "GOOG", len(goog_raw))


def test_write_is_idempotent_and_refuses_malformed_frames(store: Store, goog_raw: pd.DataFrame):
    md = MarketDataStore(store)
    md.write_bars(goog_raw)
    again = md.write_bars(goog_raw)
    assert (again.inserted, again.already_stored) == (0, len(goog_raw))
    before = store.row_counts()
    with pytest.raises(BarFrameError, match="missing columns"):
        md.write_bars(goog_raw.drop(columns=["close"]))
    naive = goog_raw.assign(ts=goog_raw["ts"].dt.tz_localize(None))
    with pytest.raises(BarFrameError, match="timezone-aware"):
        md.write_bars(naive)
    with pytest.raises(BarFrameError, match="'open' is not numeric"):
        md.write_bars(goog_raw.assign(open="abc"))
    assert store.row_counts() == before


def test_second_process_is_refused_with_the_holder_named(tmp_path: Path):
    path = tmp_path / "held"
    with Store(f"chdb://{path}") as held:
        held.migrate()
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "from core.store import Store, StoreLockedError\n"
                f"try:\n    Store('chdb://{path}')\n"
                "except StoreLockedError as e:\n    print(e); raise SystemExit(3)\n",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert child.returncode == 3, child.stderr
        assert f"held by pid {__import__('os').getpid()}" in child.stdout
        assert "one process per data path" in child.stdout
        assert held.row_counts()["bars"] == 0  # the holder still works
    # Released on close: a new process may take it.
    ok = subprocess.run(
        [sys.executable, "-c", f"from core.store import Store; Store('chdb://{path}').close()"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr


def test_one_embedded_path_per_process(tmp_path: Path):
    with Store(f"chdb://{tmp_path / 'a'}") as first:
        with pytest.raises(StoreLockedError, match="already has the embedded store"):
            Store(f"chdb://{tmp_path / 'b'}")
        with Store(f"chdb://{tmp_path / 'a'}") as same:  # same path twice is fine
            assert same.migrate() is not None
        first.migrate()
        assert first.row_counts()["bars"] == 0


@pytest.mark.parametrize("dsn", ["chdb://relative/path", "postgres://x", "chdb://host/abs"])
def test_bad_dsns_are_refused(dsn: str):
    with pytest.raises(StoreConfigError):
        Store(dsn)


def test_reading_a_series_that_is_not_stored_gives_an_empty_typed_frame(store: Store):
    frame = MarketDataStore(store).read_bars("nowhere", "NONE", "1m", "2020-01-01", "2021-01-01")
    assert frame.empty
    assert str(frame["ts"].dtype) == "datetime64[ms, UTC]"
    assert list(frame.columns) == ["ts", "open", "high", "low", "close", "volume", "derived"]


def test_bulk_insert_names_only_desk_tables(store: Store, goog_raw: pd.DataFrame):
    from core.store.bar_frame import bar_frame_to_arrow, conform_bar_frame

    before = store.row_counts()
    with pytest.raises(ValueError, match="unknown table"):
        store.bulk.insert_arrow(
            "bars; DROP TABLE bars", bar_frame_to_arrow(conform_bar_frame(goog_raw))
        )
    assert store.row_counts() == before
