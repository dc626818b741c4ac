"""LLM spend reaches the monitor: the served desk's LLM calls (its router, against a loopback
server speaking the OpenAI wire format) are published on the bus with their tokens and cost,
and the monitor alerts once the last hour's spend passes its limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.bus import Alert, Bus, Keys, LlmUsage
from core.settings import Settings
from interfaces.server import Server, build
from tests.fakes.openai_compat import FakeOpenAI, kind_reply, serve_openai
from tests.services.conftest import state, ticks_of
from tests.waiting import wait_until


@pytest.fixture
def served(desk_dir: Path, hub: str) -> Iterator[tuple[Server, FakeOpenAI]]:
    with serve_openai() as fake:
        settings = Settings(
            data_dir=desk_dir, bus_hub=hub, log_json=False, llm_base_url=fake.base_url,
            llm_model="gpt-4o-mini", llm_api_key=SecretStr("sk-test-not-real"),
            llm_max_retries=0, monitor_llm_cost_per_hour=0.00004,
        )  # fmt: skip
        server = build(settings, schedule=False, bus=True)
        try:
            yield server, fake
        finally:
            server.close()


def test_the_served_desks_llm_spend_reaches_the_monitor(
    served, peer: Bus, monkeypatch: pytest.MonkeyPatch
):
    server, fake = served
    assert server.services is not None
    monitor = next(s for s in server.services.services if s.name == "monitor")
    ticks = ticks_of(monitor, monkeypatch)
    usage: list[LlmUsage] = []
    alerts: list[Alert] = []
    peer.subscribe(Keys.LLM_USAGE, lambda m, k: usage.append(m))  # type: ignore[arg-type]
    peer.subscribe(Keys.ALL_ALERTS, lambda m, k: alerts.append(m))  # type: ignore[arg-type]
    state(peer)

    # 120 prompt + 20 completion tokens at gpt-4o-mini's price: 3.0e-05 USD.
    # A kind that takes no fields: one routing call.
    fake.replies.append(kind_reply("health"))
    server.host.ask("are the desk's services up?", "llm-1")
    assert len(fake.requests) >= 1
    wait_until(lambda: usage, 5, what="the call's usage on the bus")
    first = usage[0]
    assert (first.model, first.prompt_tokens, first.completion_tokens) == ("gpt-4o-mini", 120, 20)
    assert first.cost_usd == pytest.approx((120 * 0.15 + 20 * 0.60) / 1e6)
    assert first.prompt_version, "the router's prompt version rides along"
    # One call is under the 4e-05 USD an hour limit; a second passes it.
    wait_until(
        lambda: monitor.llm_spend_last_hour(time.monotonic()) > 0, 5, what="the monitor's count"
    )
    since = ticks()
    wait_until(lambda: ticks() >= since + 2, 5, what="two monitor ticks, each free to alert")
    assert not any("LLM spend" in a.text for a in alerts)
    fake.replies.append(kind_reply("health"))
    server.host.ask("are the services up now?", "llm-2")
    wait_until(lambda: any("LLM spend" in a.text for a in alerts), 5, what="the spend alert")
    # The first spend alert is the second call's: none came after the first call alone.
    alert = next(a for a in alerts if "LLM spend" in a.text)
    assert (alert.severity, alert.source) == ("warning", "monitor")
    assert "6e-05 USD in the last hour > 4e-05 USD" in alert.text
