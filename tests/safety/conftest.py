"""A desk data dir with real Bitstamp BTC bars, built once and copied for each crash test, and
a runner for the scripted desk as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from core.models.market import SessionCalendar
from core.store import Store
from tools.ingest.pipeline import ingest_bars

ROOT = Path(__file__).resolve().parents[2]
RunDesk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def loaded_template(
    tmp_path_factory: pytest.TempPathFactory, bitstamp_btc_raw: pd.DataFrame
) -> Path:
    desk = tmp_path_factory.mktemp("template") / "desk"
    with Store(f"chdb://{desk / 'clickhouse'}") as store:
        store.migrate()
        ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return desk


@pytest.fixture
def desk_dir(loaded_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "desk"
    shutil.copytree(loaded_template, target, symlinks=True)  # chdb links its tables
    return target


def scripted_env(crash_at: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["QUANTDESK_LOG_JSON"] = "false"
    if crash_at:
        env["QUANTDESK_CRASH_AT"] = crash_at
    return env


def start_desk(
    desk_dir: Path, crash_at: str | None = None, round_no: int = 0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.safety.scripted_desk", str(desk_dir), str(round_no)],
        cwd=ROOT,
        env=scripted_env(crash_at),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def run_desk(desk_dir: Path) -> RunDesk:
    def run(crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        process = start_desk(desk_dir, crash_at)
        out, _ = process.communicate(timeout=240)
        return subprocess.CompletedProcess(process.args, process.returncode, out, "")

    return run
