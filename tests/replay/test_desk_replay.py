"""The desk replayed over real Bitstamp history: the same graph, gate and paper venue as
live, under a simulated clock. Nothing it reads may be stamped after that clock (the leakage
probe, shown to catch a leaking tool), orders fill at the next day's open with the costs,
and a replay run twice with the model decides the same orders, the second time without
calling it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from core.settings import Settings
from core.store import Store
from core.store.as_of import LeakageError
from interfaces.replay.loop import run_replay
from interfaces.replay.run import ReplayRequest, replay_and_report
from interfaces.replay.setup import ReplayConfig, ReplayConfigError
from tests.fakes.openai_compat import route_replies, serve_openai
from tools.replay.models import LlmUsage, ReplayRun
from tools.research import bars as research_bars

BTC = ("bitstamp:BTC/USD",)
# Research runs at the first midnight of February, then a risk review on Monday the 4th;
# the orders it sends fill at the next day's open.
WINDOW = {"start": date(2019, 1, 31), "end": date(2019, 2, 6), "universe": BTC}


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path / "desk", **extra)  # type: ignore[arg-type]


def test_the_desk_replays_without_reading_the_future_and_fills_at_the_next_open(
    tmp_path: Path,
) -> None:
    config = ReplayConfig(approvals="approve", memory=True, **WINDOW)  # type: ignore[arg-type]
    replayed = run_replay(_settings(tmp_path), config, tmp_path / "replay")
    run = replayed.run
    assert [m.day for m in run.marks] == [date(2019, 1, d) for d in (31,)] + [
        date(2019, 2, d) for d in range(1, 6)
    ]
    assert [d.job for d in run.decisions] == ["research-rebalance", "risk-review"]
    # The probe looked at every read the desk made (bars, the audit log, memory recall).
    assert run.probed_reads > 20
    assert run.fills, "research's order never filled"
    opens = replayed.bars["bitstamp:BTC/USD"].set_index("ts")
    adverse = (1 + run.costs.half_spread_bps / 1e4) * (1 + run.costs.slippage_bps / 1e4)
    favourable = (1 - run.costs.half_spread_bps / 1e4) * (1 - run.costs.slippage_bps / 1e4)
    for fill in run.fills:
        # Sent at the midnight the day before closed, filled on the open print of the day.
        day = pd.Timestamp(fill.at.date(), tz="UTC")
        bar = opens.loc[day]
        expected = bar["open"] * (adverse if fill.side == "buy" else favourable)
        assert fill.price == pytest.approx(expected, rel=1e-9)
        assert fill.fee == pytest.approx(fill.quantity * fill.price * run.costs.taker_fee_bps / 1e4)
        # At most the venue's share of the open print, a quarter of the bar's volume.
        assert fill.quantity <= run.costs.liquidity_fraction * bar["volume"] / 4 + 1e-9
    assert run.marks[-1].fees == pytest.approx(sum(f.fee for f in run.fills))


def test_a_tool_that_reads_the_future_fails_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leaking_load_bars(store: Store, venue: str, symbol: str, interval: str) -> object:
        # A research tool that reads the bars table itself, past the store's as-of.
        raw = store.bulk.query_frame(
            "SELECT ts, open, high, low, close, volume FROM bars "
            "WHERE venue = {v:String} AND symbol = {s:String} ORDER BY ts",
            {"v": venue, "s": symbol},
        )
        return research_bars.BarSeries.from_frame(raw, venue, symbol, interval)

    monkeypatch.setattr("agents.research.load_bars", leaking_load_bars)
    config = ReplayConfig(approvals="approve", memory=False, **WINDOW)  # type: ignore[arg-type]
    with pytest.raises(LeakageError, match="after the simulated now"):
        run_replay(_settings(tmp_path), config, tmp_path / "replay")


def test_a_replay_with_the_model_is_reproducible_from_its_cache(tmp_path: Path) -> None:
    """Two runs of one replay: the same orders, and the second asks the model nothing."""
    with serve_openai() as fake:
        settings = _settings(
            tmp_path, llm_base_url=fake.base_url, llm_model="qwen2.5-coder-0.5b-instruct",
            llm_api_key=SecretStr("sk-test-not-real"), llm_max_retries=0,
        )  # fmt: skip
        request = ReplayRequest(
            router="llm", approvals="approve", memory=False, mlflow=False, **WINDOW
        )  # type: ignore[arg-type]
        fake.replies += route_replies(
            "research", symbol="BTC", strategy="ts_momentum", paper_trade=True
        ) + route_replies("risk")
        first, used = _orders(settings, request)
        asked = len(fake.requests)
        assert asked >= 2
        second, cached = _orders(settings, request)
        assert len(fake.requests) == asked, "the second run called the model"
    assert second == first
    assert first, "the model's research sent no order"
    # Both runs are charged what the decisions cost; only the first paid the endpoint.
    assert (used.calls, used.cached) == (asked, 0)
    assert (cached.calls, cached.cached) == (0, asked)
    assert cached.prompt_tokens == used.prompt_tokens > 0


def _orders(settings: Settings, request: ReplayRequest) -> tuple[list[tuple], LlmUsage]:
    outcome = replay_and_report(settings, request)
    replayed = ReplayRun.model_validate_json((outcome.folder / "run.json").read_text())
    assert outcome.report.exists()
    assert any("llm" in d.routed_by for d in replayed.decisions)
    orders = [(v.order_id, v.side, v.quantity, v.verdict) for v in replayed.verdicts]
    return orders, replayed.llm


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("end", date(2019, 1, 1), "must come after"),
        ("universe", ("bitstamp:DOGE/USD",), "holds no bars for bitstamp:DOGE/USD"),
        ("dataset", "nope", "unknown dataset"),
    ],
)
def test_a_replay_that_cannot_run_says_why_and_writes_nothing(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    config = ReplayConfig(**{**WINDOW, field: value})  # type: ignore[arg-type]
    with pytest.raises(ReplayConfigError, match=message):
        run_replay(_settings(tmp_path), config, tmp_path / "replay")
    assert not (tmp_path / "replay").exists()
