"""`quantdesk llm serve|status|stop` as a user runs them: real processes, the real
llama-cpp-python server and the real 0.5B model, one server for the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from core.llm.local_server import (
    LOCAL_TIMEOUT_S,
    ServerRecord,
    live_record,
    process_alive,
    read_record,
    record_path,
    with_local_model,
)
from core.settings import Settings, get_settings
from graph.routers import pick_router
from interfaces.cli import app

pytestmark = pytest.mark.slow


def quantdesk(
    env: dict[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def stale_record(data_dir: Path) -> None:
    """A server.json left by a server that died without `llm stop`."""
    record_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    record_path(data_dir).write_text(
        json.dumps({
            "pid": dead_pid(), "port": 1, "base_url": "http://127.0.0.1:1/v1", "model": "gone",
            "gguf": "/nowhere.gguf", "threads": 1, "ctx": 2048, "prompt_cache": False,
            "started_at": "2026-01-01T00:00:00Z", "log": "/nowhere.log", "command": [],
        })
    )  # fmt: skip


@pytest.fixture(scope="module")
def cli_env(model_data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_LLM_")}
    return env | {"QUANTDESK_DATA_DIR": str(model_data_dir), "QUANTDESK_LOG_JSON": "false"}


@pytest.fixture(scope="module")
def served(cli_env: dict[str, str], model_data_dir: Path) -> Iterator[ServerRecord]:
    """`llm serve` over a stale record, on a free port; stopped (and checked gone) after."""
    stale_record(model_data_dir)
    # The router prompt is about 3,600 tokens; two threads: nothing else runs while it waits.
    started = quantdesk(cli_env, "llm", "serve", "--port", "0", "--threads", "2")
    assert started.returncode == 0, started.stdout + started.stderr
    record = read_record(model_data_dir)
    assert record is not None
    try:
        yield record
    finally:
        quantdesk(cli_env, "llm", "stop")
        assert not process_alive(record.pid)


def test_serve_replaces_a_stale_record_and_status_shows_the_model(
    served: ServerRecord, cli_env: dict[str, str]
):
    assert served.model == "qwen2.5-coder-0.5b-instruct"
    assert served.base_url == f"http://127.0.0.1:{served.port}/v1"
    assert served.command[7:9] == ["--host", "127.0.0.1"]
    assert "chat_template.default" in served.command
    status = quantdesk(cli_env, "llm", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"running (pid {served.pid}) at {served.base_url}" in status.stdout
    assert "qwen2, 0.5B, Q4_K_M, context 32768" in status.stdout
    assert "/v1/models: qwen2.5-coder-0.5b-instruct" in status.stdout


def test_a_second_serve_is_refused_while_one_runs(served: ServerRecord, cli_env: dict[str, str]):
    again = quantdesk(cli_env, "llm", "serve", "--port", "0")
    assert again.returncode == 2
    assert f"already runs (pid {served.pid}" in again.stdout
    assert read_record(Path(cli_env["QUANTDESK_DATA_DIR"])) == served


def test_a_chat_completion_answers(served: ServerRecord):
    response = httpx.post(
        f"{served.base_url}/chat/completions",
        json={
            "model": served.model,
            "messages": [{"role": "user", "content": "Say the word BTC and nothing else."}],
            "max_tokens": 8,
            "temperature": 0,
        },
        timeout=120,
    )
    response.raise_for_status()
    body = response.json()
    assert "BTC" in body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] <= 8


def test_the_desk_routes_through_the_local_model(served: ServerRecord, model_data_dir: Path):
    settings = Settings(data_dir=model_data_dir, llm_base_url=None, helicone_api_key="key")
    local = with_local_model(settings)
    assert (local.llm_base_url, local.llm_model) == (served.base_url, served.model)
    assert local.llm_timeout_s >= LOCAL_TIMEOUT_S
    assert local.llm_max_retries == 0
    assert local.helicone_api_key is None
    router = pick_router("llm", settings)
    intent = router.route("show me the positions")
    assert intent.routed_by == "llm", router.last_error  # type: ignore[attr-defined]


def test_services_status_shows_the_model_server(
    served: ServerRecord, model_data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(model_data_dir))
    monkeypatch.setenv("QUANTDESK_NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.delenv("QUANTDESK_LLM_BASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["services", "status"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert f"llm: running (pid {served.pid}) at {served.base_url}" in shown.output


def test_a_configured_endpoint_wins_over_the_local_model(
    served: ServerRecord, model_data_dir: Path
):
    settings = Settings(data_dir=model_data_dir, llm_base_url="http://127.0.0.1:9/v1")
    assert with_local_model(settings) is settings


def test_stop_leaves_no_process_and_status_says_so(served: ServerRecord, cli_env: dict[str, str]):
    stopped = quantdesk(cli_env, "llm", "stop")
    assert stopped.returncode == 0
    assert f"stopped (pid {served.pid}" in stopped.stdout
    assert not process_alive(served.pid)
    assert not record_path(Path(cli_env["QUANTDESK_DATA_DIR"])).exists()
    status = quantdesk(cli_env, "llm", "status")
    assert status.returncode == 1
    assert "not running" in status.stdout
    again = quantdesk(cli_env, "llm", "stop")
    assert (again.returncode, again.stdout.strip()) == (0, "llm: was not running")


def test_a_server_that_dies_while_loading_is_reported_and_cleaned_up(
    tmp_path: Path, cli_env: dict[str, str]
):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 4096)
    env = cli_env | {"QUANTDESK_DATA_DIR": str(tmp_path / "desk")}
    started = quantdesk(env, "llm", "serve", "--model", str(broken), "--port", "0")
    assert started.returncode == 2, started.stdout + started.stderr
    assert "the model server exited" in started.stdout
    assert "before answering; the end of" in started.stdout
    assert not record_path(tmp_path / "desk").exists()


def test_a_stale_record_is_not_a_server(tmp_path: Path):
    stale_record(tmp_path)
    assert live_record(tmp_path) is None
    settings = Settings(data_dir=tmp_path)
    assert with_local_model(settings) is settings
    # A live pid that is not a llama.cpp server (a reused pid) is never taken for one.
    record = read_record(tmp_path)
    assert record is not None
    record_path(tmp_path).write_text(
        record.model_copy(update={"pid": os.getpid()}).model_dump_json()
    )
    assert live_record(tmp_path) is None
