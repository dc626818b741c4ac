"""Bad input gets one clear line: `quantdesk ask` exits 2 with no traceback, the API answers
4xx with a readable detail, the stream sends a readable error event, and the desk is as it
was afterwards (no order, no approval, trading still active). These once raised pydantic
tracebacks (exit 1, HTTP 500), or were read as other numbers ("at 9e3" as 9, Arabic-Indic ten as 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.models.trading import TradingState
from core.settings import get_settings
from core.store import Store, TradeLog
from graph.intents import Intent
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.cli import app
from interfaces.desk_host import DeskHost
from tests.interfaces.conftest import auth, desk_settings

# (request, what the answer must name)
BAD = [
    ("buy 0 BTC", "quantity '0': must be above zero"),
    ("buy 0.01 BTC at 0", "limit price '0': must be above zero"),
    ("buy " + "9" * 400 + " BTC", "(400 characters)"),
    ("buy 1 " + "X" * 40, "symbol"),
    ("buy 0.01 BTC at 1e400", "limit price '1e400': exponents"),
    ("buy 0.01 BTC at 9e3", "limit price '9e3': exponents"),
    (
        "buy \u0661\u0660 BTC",
        "quantity '\u0661\u0660': numbers are written with the ASCII digits 0-9",
    ),
    ("buy -1 BTC", "quantity '-1': must be above zero"),
]
IDS = ["zero", "zero-price", "400-digits", "40-letters", "1e400", "9e3", "arabic-indic", "neg"]
SURROGATE = b'{"message": "health \\ud800"}'


def assert_desk_untouched(session: DeskSession) -> None:
    assert TradeLog(session.store).fills() == []
    assert session.desk.gateway.positions() == []
    assert session.pending() == {}
    assert session.desk.gateway.trading_state is TradingState.ACTIVE


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def cli_runner(desk_env: Path) -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(("request_text", "named"), BAD, ids=IDS)
def test_the_cli_refuses_bad_input_in_one_line_with_exit_2(
    cli_runner: CliRunner, request_text: str, named: str
):
    result = cli_runner.invoke(app, ["ask", request_text])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("refused: not understood:")
    assert named in lines[0]
    assert "Traceback" not in result.output
    assert "validation error" not in result.output


def test_the_cli_refuses_a_lone_surrogate(cli_runner: CliRunner):
    result = cli_runner.invoke(app, ["ask", "health \ud800"])
    assert result.exit_code == 2
    assert "lone surrogate (U+D800) at character 8" in result.output


def test_the_cli_leaves_the_desk_as_it_was(cli_runner: CliRunner):
    for request_text, _ in BAD:
        assert cli_runner.invoke(app, ["ask", request_text]).exit_code == 2
    with DeskSession(get_settings()) as session:
        assert_desk_untouched(session)


def test_a_real_quantdesk_process_prints_no_traceback(desk_env: Path):
    env = {**os.environ, "QUANTDESK_DATA_DIR": str(desk_env), "QUANTDESK_LOG_JSON": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "ask", "buy 0 BTC"],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.strip() == "refused: not understood: quantity '0': must be above zero"


# -- the HTTP API -----------------------------------------------------------------------


@pytest.mark.parametrize(("request_text", "named"), BAD, ids=IDS)
def test_the_api_answers_400_naming_what_was_not_understood(
    client: TestClient, host: DeskHost, request_text: str, named: str
):
    answer = client.post("/v1/chat/bad", json={"message": request_text}, headers=auth("trader"))
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("not understood:")
    assert named in detail
    assert "validation error" not in detail
    assert_desk_untouched(host.session)


def test_the_api_answers_a_lone_surrogate_with_422_and_a_clear_message(
    client: TestClient, host: DeskHost
):
    answer = client.post(
        "/v1/chat/s",
        content=SURROGATE,
        headers={**auth("trader"), "content-type": "application/json"},
    )
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "message"]
    assert "lone surrogate (U+D800) at character 8" in error["msg"]
    streamed = client.post(
        "/v1/chat/s/stream",
        content=SURROGATE,
        headers={**auth("trader"), "content-type": "application/json"},
    )
    assert streamed.status_code == 422
    assert_desk_untouched(host.session)
    # The desk still answers, and still trades, afterwards.
    ok = client.post("/v1/chat/s", json={"message": "health"}, headers=auth("trader"))
    assert ok.status_code == 200
    assert ok.json()["trace"] == ["pm", "monitor"]


# -- the SSE stream ---------------------------------------------------------------------


def events_of(client: TestClient, thread: str, message: str) -> list[dict[str, object]]:
    with client.stream(
        "POST", f"/v1/chat/{thread}/stream", json={"message": message}, headers=auth("trader")
    ) as response:
        assert response.status_code == 200
        return [
            json.loads(line[len("data: ") :])
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]


@pytest.mark.parametrize(("request_text", "named"), BAD, ids=IDS)
def test_the_stream_sends_one_readable_error_event(
    client: TestClient, host: DeskHost, request_text: str, named: str
):
    events = events_of(client, "bad", request_text)
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["thread_id"] == "bad"
    error = str(events[0]["error"])
    assert error.startswith("not understood:")
    assert named in error
    assert "validation error" not in error
    assert_desk_untouched(host.session)


def test_the_stream_still_ends_with_done_after_a_refusal(client: TestClient, host: DeskHost):
    events_of(client, "s", "buy 0 BTC")
    events = events_of(client, "s", "explain the last decision")
    assert [e["event"] for e in events] == ["step", "done"]
    assert events[0]["agent"] == "pm"
    assert events[0]["text"]


class BrokenRouter:
    """A router that fails the way the old one did on "buy 0 BTC": a pydantic error."""

    name = "broken"

    def route(self, text: str) -> Intent:
        return Intent(kind="trade", side="buy", quantity=0, symbol="BTC")


def test_a_failing_turn_streams_a_readable_error_not_the_exception_text(
    loaded: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    settings = desk_settings(tmp_path)
    with DeskSession(settings, loaded, router=BrokenRouter()) as session:
        host = DeskHost(session)
        with TestClient(create_app(settings, host)) as broken:
            events = events_of(broken, "f", "buy 1 BTC")
        assert [e["event"] for e in events] == ["error"]
        error = str(events[0]["error"])
        assert error.startswith("the desk could not finish this request (ValidationError)")
        assert "trace id" in error
        assert "greater than 0" not in error
        assert "pydantic" not in error
        assert any("greater than 0" in r.exc_text for r in caplog.records if r.exc_text), (
            "the exception itself goes to the log"
        )
        assert_desk_untouched(session)
