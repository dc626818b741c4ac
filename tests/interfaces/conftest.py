"""A desk with real bars behind the HTTP app, and one API key per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from tools.ingest.pipeline import ingest_bars

KEYS = {
    "viewer": "viewer-key-0123456789",
    "trader": "trader-key-0123456789",
    "approver": "approver-key-0123456789",
    "approver2": "approver2-key-0123456789",
    "admin": "admin-key-0123456789ab",
}
ROLES = {"viewer": "viewer", "trader": "trader", "approver": "approver", "approver2": "approver",
         "admin": "admin"}  # fmt: skip
KEY_SETTING = ",".join(f"{name}:{ROLES[name]}:{key}" for name, key in KEYS.items())


def auth(name: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[name]}


@pytest.fixture
def loaded(store: Store, bitstamp_btc_raw: pd.DataFrame, goog_raw: pd.DataFrame) -> Store:
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    ingest_bars(store, goog_raw, source="goog", calendar=SessionCalendar.WEEKDAYS)
    return store


def desk_settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path / "desk", api_keys=KEY_SETTING, log_json=False, **extra)  # type: ignore[arg-type]


@pytest.fixture
def host(loaded: Store, tmp_path: Path) -> Iterator[DeskHost]:
    with DeskSession(desk_settings(tmp_path), loaded) as session:
        yield DeskHost(session)


@pytest.fixture
def client(host: DeskHost, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(desk_settings(tmp_path), host)) as test_client:
        yield test_client
