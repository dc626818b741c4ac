"""The monitoring service: heartbeats of every agent, data freshness and the gateway's state
(asked of the store's owner), LLM spend per hour (from the usage the PM process publishes),
alerts on the bus, and the sinks that carry them to people (Slack through the desk's Slack
app, a webhook, email over SMTP). Sinks run on their own worker, so a slow mail server never
holds up the bus."""

from __future__ import annotations

import json
import logging
import queue
import smtplib
import threading
import time
import urllib.request
from collections import deque
from email.message import EmailMessage

from slack_sdk import WebClient

from agents.services.runtime import Service
from core.bus import Alert, Bus, BusError, BusMessage, Control, Heartbeat, Keys, LlmUsage
from core.bus.messages import MarketBar
from core.settings import Settings
from core.telemetry import AGENT_UP, HEARTBEAT_AGE
from tools.stream.feeds import FeedBook

log = logging.getLogger(__name__)


class MonitorService(Service):
    name = "monitor"

    def __init__(self, settings: Settings, bus: Bus) -> None:
        super().__init__(settings, bus)
        # Expected agents count as seen at start: one that never shows up is reported silent.
        self.last_seen: dict[str, float] = dict.fromkeys(settings.monitor_agents, time.monotonic())
        self.silent: set[str] = set()
        self.outbox: queue.Queue[Alert] = queue.Queue()
        self.delivered: list[str] = []
        bus.subscribe(Keys.ALL_HEALTH, self._heartbeat)
        bus.subscribe(Keys.ALL_ALERTS, self._alert)
        bus.subscribe(Keys.LLM_USAGE, self._llm)
        self.llm_calls: deque[tuple[float, float]] = deque()  # (monotonic time, cost USD)
        self.llm_over = False
        self.llm_lock = threading.Lock()
        self.stale: set[str] = set()
        self.feeds = FeedBook()
        self.stalled: set[str] = set()
        bus.subscribe(Keys.ALL_MARKET_DATA, self._bar)
        self._slack_client: WebClient | None = None
        threading.Thread(target=self._deliver, name="monitor-sinks", daemon=True).start()
        threading.Thread(target=self._poll_health, name="monitor-health", daemon=True).start()

    def _poll_health(self) -> None:
        """Data freshness and gateway state, from the store's owner; a request can take a
        while, so it runs here rather than in the heartbeat watch."""
        while not self.stopping.wait(self.settings.monitor_poll_s):
            try:
                answer = self.bus.request(
                    Keys.rpc("execution", "control"), Control(action="health"), timeout=5
                )
            except BusError as exc:
                log.info("monitor: no health from execution: %s", exc)
                continue
            stale = set(answer.body.get("stale_traded_series", []))  # type: ignore[call-overload]
            for series in sorted(stale - self.stale):
                self.raise_alert(
                    "warning", f"stale data: {series} (desk time {answer.body.get('desk_time')})"
                )
            for series in sorted(self.stale - stale):
                self.raise_alert("info", f"data fresh again: {series}")
            self.stale = stale

    def _heartbeat(self, message: BusMessage, key: str) -> None:
        if isinstance(message, Heartbeat) and message.agent != self.name:
            self.last_seen[message.agent] = time.monotonic()
            if message.agent in self.silent:
                self.silent.discard(message.agent)
                self.raise_alert("info", f"agent {message.agent} is back")

    def _bar(self, message: BusMessage, key: str) -> None:
        if isinstance(message, MarketBar):
            stamp = int(message.bar_ts.timestamp() * 1000)
            self.feeds.heard(message.instrument, message.interval, stamp, int(time.time() * 1000))

    def _watch_feeds(self) -> None:
        """A feed that was streaming and stopped: alert once, and say when it is back."""
        stalled = self.feeds.stalled(int(time.time() * 1000), self.settings.monitor_feed_stall_s)
        for feed in sorted(stalled - self.stalled):
            limit = self.settings.monitor_feed_stall_s
            self.raise_alert("warning", f"feed stalled: {feed}, no bar for over {limit:g} s")
        for feed in sorted(self.stalled - stalled):
            self.raise_alert("info", f"feed flowing again: {feed}")
        self.stalled = stalled

    def _llm(self, message: BusMessage, key: str) -> None:
        if isinstance(message, LlmUsage):
            with self.llm_lock:
                self.llm_calls.append((time.monotonic(), message.cost_usd))

    def llm_spend_last_hour(self, now: float) -> float:
        with self.llm_lock:
            while self.llm_calls and self.llm_calls[0][0] < now - 3600:
                self.llm_calls.popleft()
            return sum(cost for _, cost in self.llm_calls)

    def _watch_llm_spend(self, now: float) -> None:
        spend, limit = self.llm_spend_last_hour(now), self.settings.monitor_llm_cost_per_hour
        if spend > limit and not self.llm_over:
            self.llm_over = True
            self.raise_alert(
                "warning", f"LLM spend {spend:.6g} USD in the last hour > {limit:.6g} USD"
            )
        elif spend <= limit and self.llm_over:
            self.llm_over = False
            self.raise_alert("info", f"LLM spend back to {spend:.6g} USD an hour")

    def _alert(self, message: BusMessage, key: str) -> None:
        if isinstance(message, Alert):
            self.outbox.put(message)

    def raise_alert(self, severity: str, text: str) -> None:
        log.warning("alert (%s): %s", severity, text)
        self.bus.publish(
            Keys.alerts(severity),
            Alert.model_validate({"severity": severity, "source": self.name, "text": text}),
        )

    def tick(self) -> None:
        now = time.monotonic()
        for agent, seen in list(self.last_seen.items()):
            age = now - seen
            HEARTBEAT_AGE.labels(agent).set(age)
            up = age <= self.settings.deadman_reduce_after_s
            AGENT_UP.labels(agent).set(1 if up else 0)
            if not up and agent not in self.silent:
                self.silent.add(agent)
                self.raise_alert("warning", f"agent {agent} silent for {age:.1f} s")
        self._watch_llm_spend(now)
        self._watch_feeds()

    def _deliver(self) -> None:
        while True:
            alert = self.outbox.get()
            for sink in (self._slack, self._webhook, self._email):
                try:
                    sink(alert)
                except Exception as exc:
                    log.warning("monitor: %s failed for an alert: %s", sink.__name__, exc)

    def _slack(self, alert: Alert) -> None:
        token = self.settings.slack_bot_token
        if token is None:
            return
        if self._slack_client is None:
            self._slack_client = WebClient(
                token=token.get_secret_value(), base_url=self.settings.slack_api_url
            )
        icon = {"critical": ":rotating_light:", "warning": ":warning:"}.get(alert.severity, "")
        self._slack_client.chat_postMessage(
            channel=self.settings.slack_alert_channel,
            text=f"{icon} [{alert.severity}] {alert.source}: {alert.text}".strip(),
        )
        self.delivered.append(f"slack:{alert.trace_id}")

    def _webhook(self, alert: Alert) -> None:
        url = self.settings.alert_webhook_url
        if not url:
            return
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            url, data=alert.model_dump_json().encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            answer.read()
        self.delivered.append(f"webhook:{alert.trace_id}")

    def _email(self, alert: Alert) -> None:
        if not (self.settings.smtp_host and self.settings.alert_email_to):
            return
        mail = EmailMessage()
        mail["Subject"] = f"[quantdesk {alert.severity}] {alert.text[:80]}"
        mail["From"] = self.settings.alert_email_from
        mail["To"] = ", ".join(self.settings.alert_email_to)
        mail.set_content(json.dumps(alert.model_dump(mode="json"), indent=2))
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)
        self.delivered.append(f"email:{alert.trace_id}")
