"""Files in: broken ones are refused with a clear error and the store is untouched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.store import MarketDataStore, Store
from tools.ingest.loaders import DataLoadError, load_csv, load_parquet
from tools.ingest.pipeline import ingest_bars


def _as_file_frame(raw: pd.DataFrame) -> pd.DataFrame:
    return (
        raw.rename(columns=str.capitalize)
        .loc[:, ["Ts", "Open", "High", "Low", "Close", "Volume"]]
        .rename(columns={"Ts": "Date"})
    )


def test_csv_and_parquet_give_the_same_bars(tmp_path: Path, goog_raw: pd.DataFrame):
    frame = _as_file_frame(goog_raw)
    frame.to_csv(tmp_path / "goog.csv", index=False)
    frame.to_parquet(tmp_path / "goog.parquet")
    from_csv = load_csv(tmp_path / "goog.csv", venue="nasdaq", symbol="GOOG", interval="1d")
    from_pq = load_parquet(tmp_path / "goog.parquet", venue="nasdaq", symbol="GOOG", interval="1d")
    pd.testing.assert_frame_equal(from_csv.drop(columns="source"), from_pq.drop(columns="source"))
    assert len(from_csv) == len(goog_raw)


def test_epoch_millisecond_timestamps_are_understood():
    frame = pd.DataFrame(
        {
            "timestamp": [1_600_000_000_000, 1_600_086_400_000],
            "open": [1, 2],
            "high": [2, 3],
            "low": [0.5, 1],
            "close": [1.5, 2.5],
            "volume": [10, 20],
        }
    )
    from tools.ingest.loaders import from_dataframe

    raw = from_dataframe(frame, venue="v", symbol="X/Y", interval="1d", source="t")
    assert raw["ts"].iloc[0] == pd.Timestamp("2020-09-13 12:26:40", tz="UTC")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable CSV"),
        (b"Date,Open,High\n2020-01-01,1,2\n", "missing OHLCV columns"),
        (b"a,b,c\n1,2,3\n", "no timestamp column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe", "not a readable CSV"),
    ],
)
def test_broken_csv_files_are_refused_and_nothing_is_stored(
    tmp_path: Path, store: Store, content: bytes, message: str
):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    before = store.row_counts()
    with pytest.raises(DataLoadError, match=message):
        load_csv(path, venue="v", symbol="X/Y", interval="1d")
    assert store.row_counts() == before


def test_broken_parquet_and_missing_files_are_refused(tmp_path: Path):
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataLoadError, match="not a readable Parquet"):
        load_parquet(bad, venue="v", symbol="X/Y", interval="1d")
    with pytest.raises(DataLoadError, match="no such file"):
        load_csv(tmp_path / "absent.csv", venue="v", symbol="X/Y", interval="1d")


def test_text_in_number_columns_is_quarantined_not_dropped(tmp_path: Path, store: Store):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "date,open,high,low,close,volume\n"
        "2020-01-01,10,11,9,10.5,100\n"
        "2020-01-02,n/a,11,9,10.5,100\n"
        "not-a-date,10,11,9,10.5,100\n"
        "2020-01-03,10,11,9,10.2,100\n"
    )
    raw = load_csv(path, venue="v", symbol="X/Y", interval="1d")
    report = ingest_bars(store, raw, source="mixed", calendar=SessionCalendar.CONTINUOUS)
    assert (report.rows_stored, report.rows_quarantined) == (2, 2)
    assert len(MarketDataStore(store).read_bars("v", "X/Y", "1d")) == 2
