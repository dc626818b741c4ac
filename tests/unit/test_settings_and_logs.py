"""Settings from the environment and `.env`; JSON log lines with Loki's fields."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.logs import JsonLineFormatter, trace_id_var
from core.settings import Settings


def test_settings_read_the_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QUANTDESK_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.resolved_store_dsn == f"chdb://{tmp_path.resolve()}/clickhouse"
    assert settings.log_level == "debug"


def test_settings_read_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QUANTDESK_STORE_DSN=http://default:pw@127.0.0.1:8123/desk\n")
    assert Settings().resolved_store_dsn == "http://default:pw@127.0.0.1:8123/desk"


def test_bad_settings_name_the_field(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUANTDESK_STORE_DSN", "mysql://x")
    with pytest.raises(ValidationError, match="store_dsn"):
        Settings()
    monkeypatch.delenv("QUANTDESK_STORE_DSN")
    monkeypatch.setenv("QUANTDESK_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()


def test_log_lines_are_json_with_loki_fields():
    formatter = JsonLineFormatter(service="quantdesk", environment="test")
    record = logging.LogRecord(
        "desk.data", logging.WARNING, __file__, 1, "loaded %d rows", (5,), None
    )
    record.venue = "kraken"
    token = trace_id_var.set("trace-123")
    try:
        line = json.loads(formatter.format(record))
    finally:
        trace_id_var.reset(token)
    assert line["msg"] == "loaded 5 rows"
    assert line["level"] == "warning"
    assert (line["service"], line["env"], line["logger"]) == ("quantdesk", "test", "desk.data")
    assert line["trace_id"] == "trace-123"
    assert line["venue"] == "kraken"
    assert line["ts"].endswith("Z")
    assert len(line["ts"].split(".")[1]) == 10
