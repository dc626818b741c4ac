"""The report's summary: the model's text when it quotes only the figures it was given, the
template when the model invents a number, fails, or is not configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from agents.narrative import ungrounded
from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from tests.fakes.openai_compat import (
    FakeOpenAI,
    kind_reply,
    serve_openai,
    text_reply,
)
from tools.ingest.pipeline import ingest_bars


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve_openai() as server:
        yield server


def report_text(store: Store, tmp_path: Path, settings: Settings) -> str:
    with DeskSession(settings, store) as desk:
        turn = desk.ask("write the report", "r")
    path = next(a for a in turn.answers if "report written" in a).split(": ", 1)[1]
    return Path(path).read_text()


@pytest.fixture
def loaded(store: Store, bitstamp_btc_raw: pd.DataFrame) -> Store:
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return store


def llm_settings(fake: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "desk", llm_base_url=fake.base_url,
        llm_model="qwen2.5-coder-0.5b-instruct", llm_api_key=SecretStr("sk-test-not-real"),
        llm_max_retries=0,
    )  # fmt: skip


ROUTED = kind_reply("report")


def test_a_grounded_summary_is_used(loaded: Store, tmp_path: Path, fake: FakeOpenAI):
    fake.replies.append(ROUTED)
    fake.replies.append(
        (
            200,
            text_reply("Equity stands at 1,000,000.00 with 0 open positions; the desk is active."),
        )
    )
    report = report_text(loaded, tmp_path, llm_settings(fake, tmp_path))
    assert "Equity stands at 1,000,000.00" in report
    assert "(written by: qwen2.5-coder-0.5b-instruct)" in report
    assert '"equity": "1,000,000.00"' in fake.requests[1]["messages"][1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        (200, text_reply("Equity is 5,000,000.00 and rising 12% a day.")),
        (500, {"error": {"message": "boom"}}),
        (200, text_reply("")),
    ],
    ids=["invented-numbers", "endpoint-error", "empty"],
)
def test_otherwise_the_template_is_used(
    loaded: Store, tmp_path: Path, fake: FakeOpenAI, reply: tuple[int, dict]
):
    fake.replies += [ROUTED, reply]
    report = report_text(loaded, tmp_path, llm_settings(fake, tmp_path))
    assert "Equity is 1,000,000.00 with gross exposure 0.00" in report
    assert "(written by: template)" in report
    assert "5,000,000" not in report


def test_without_a_model_the_template_is_used(loaded: Store, tmp_path: Path):
    report = report_text(loaded, tmp_path, Settings(data_dir=tmp_path / "desk"))
    assert "(written by: template)" in report


def test_a_number_in_a_figure_s_name_is_not_an_invented_one():
    figures = {"var_95": "1,234.00", "equity": "1,000,000.00"}
    # Quoting the 95 of "VaR 95" was counted as invented, so no model summary ever passed.
    assert ungrounded("VaR 95 is 1,234.00 (95% confidence); equity 1,000,000.00.", figures) == []
    assert ungrounded("VaR 95 is 1,300.00.", figures) == ["1,300.00"]
    assert ungrounded("Equity rose 12%.", figures) == ["12%"]
