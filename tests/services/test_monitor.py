"""The monitoring service sees an agent go silent and tells people: an alert on the bus, a
Slack message (a loopback Slack Web API), a webhook POST (a loopback HTTP server) and an email (a loopback SMTP server, aiosmtpd)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from aiosmtpd.controller import Controller

from core.bus import Alert, Bus, Heartbeat, Keys
from tests.fakes.loopback import free_port, send, serve
from tests.fakes.slack import TOKEN, SlackCalls, fake_slack
from tests.services.conftest import OUTPUT, Launch, until_gate
from tests.waiting import wait_until


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    # aiosmtpd logs each session on "mail.log"; quiet it so nothing writes after capture ends.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], int]]:
    received: list[dict] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                received.append(json.loads(body))
            send(self, 204, b"")

        def log_message(self, format: str, *args: object) -> None:
            return

    with serve(Handler) as port:
        yield received, port


@pytest.fixture
def slack() -> Iterator[tuple[str, SlackCalls]]:
    with fake_slack() as (base, calls):
        yield base, calls


def test_a_silent_agent_raises_an_alert_that_reaches_slack_webhook_and_email(
    launch: Launch,
    peer: Bus,
    smtp: tuple[Inbox, int],
    webhook: tuple[list[dict], int],
    slack: tuple[str, SlackCalls],
):
    inbox, smtp_port = smtp
    slack_url, slack_calls = slack
    posted, web_port = webhook
    alerts: list[Alert] = []
    peer.subscribe(Keys.ALL_ALERTS, lambda m, k: alerts.append(m))
    beating: set[str] = set()
    peer.subscribe(
        Keys.ALL_HEALTH, lambda m, k: beating.add(m.agent) if isinstance(m, Heartbeat) else None
    )
    launch("execution")
    risk = launch("risk")
    launch(
        "monitor",
        QUANTDESK_ALERT_WEBHOOK_URL=f"http://127.0.0.1:{web_port}/hook",
        QUANTDESK_SMTP_HOST="127.0.0.1", QUANTDESK_SMTP_PORT=str(smtp_port),
        QUANTDESK_ALERT_EMAIL_TO='["pm@example.test"]',
        QUANTDESK_SLACK_BOT_TOKEN=TOKEN, QUANTDESK_SLACK_API_URL=f"{slack_url}/api/",
    )  # fmt: skip
    until_gate(peer, "active", 15)
    # The monitor meets risk on the bus: both beat through the hub, and this peer hears them
    # (so the monitor's alerts reach it too).
    wait_until(lambda: {"monitor", "risk"} <= beating, 10, what="the monitor's and risk's beats")
    risk.send_signal(signal.SIGKILL)
    wait_until(
        lambda: any("agent risk silent" in a.text for a in alerts),
        10,
        what="the monitor's alert on the bus",
        show=lambda: f"alerts {alerts}; output {OUTPUT}",
    )
    wait_until(
        lambda: any("agent risk silent" in p["text"] for p in posted), 10, what="the webhook POST"
    )
    wait_until(lambda: any(b"agent risk silent" in m for m in inbox.messages), 10, what="the email")
    silent = next(p for p in posted if "agent risk silent" in p["text"])
    assert (silent["severity"], silent["source"]) == ("warning", "monitor")
    mail = next(m for m in inbox.messages if b"agent risk silent" in m)
    assert b"Subject: [quantdesk warning] agent risk silent" in mail
    assert b"To: pm@example.test" in mail
    wait_until(
        lambda: any("agent risk silent" in m["text"] for m in slack_calls.of("chat.postMessage")),
        10,
        what="the Slack message",
    )
    said = next(m for m in slack_calls.of("chat.postMessage") if "agent risk silent" in m["text"])
    assert said["channel"] == "#desk-alerts"
    assert said["text"].startswith(":warning: [warning] monitor: agent risk silent")
    # The gate's own move to REDUCING travels the same way.
    wait_until(
        lambda: any(p["text"].startswith("gate reducing") for p in posted),
        10,
        what="the gate's move on the webhook",
    )
