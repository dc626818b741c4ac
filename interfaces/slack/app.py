"""The desk's Slack app (slack-bolt): approval requests as Block Kit messages whose Approve /
Reject buttons resume the PM graph, and a `/desk` slash command to talk to the PM. Bolt
verifies each request's signature and refuses stale timestamps; only the configured
approver user ids may answer, and a refused click is recorded in the audit log."""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from core.models.approval import ApprovalCard
from core.settings import Settings
from graph.session import NotWaitingError, Turn
from interfaces.desk_host import DeskHost, ThreadBusyError
from interfaces.slack.blocks import APPROVE, REJECT, approval_blocks, outcome_blocks

log = logging.getLogger(__name__)


PAST = {"approve": "approved", "reject": "rejected", "edit": "edited"}


def outcome_text(turn: Turn, decision: str, approver: str) -> str:
    if turn.pending is not None:
        return f"{PAST[decision]} by {approver}; waiting for another approver"
    report = turn.results.get("execution")
    if report is not None and "verdict" in report:
        verdict, reasons, status = report["verdict"], ", ".join(report["reasons"]), report["status"]
    else:  # no one order's report (an approval ends in one; a halt or a reduce does not)
        verdict, reasons, status = "?", "", "not taken"
    why = f" ({reasons})" if reasons else ""
    return f"*{PAST[decision]}* by {approver}: gate {verdict}{why}, order {status}"


class SlackDesk:
    """The Bolt app bound to a desk host, and the messages it has posted per thread."""

    def __init__(self, settings: Settings, host: DeskHost) -> None:
        if settings.slack_bot_token is None or settings.slack_signing_secret is None:
            raise ValueError(
                "Slack needs QUANTDESK_SLACK_BOT_TOKEN and QUANTDESK_SLACK_SIGNING_SECRET"
            )
        self.host = host
        self.channel = settings.slack_channel
        self.approvers = frozenset(settings.slack_approvers)
        token = settings.slack_bot_token.get_secret_value()
        self.client = WebClient(token=token, base_url=settings.slack_api_url)
        self.app = App(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
        )
        # Which card shows which thread's approval: in SQLite, so a restarted desk still
        # updates the cards it posted before.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._cards = sqlite3.connect(
            settings.data_dir / "slack-cards.sqlite", check_same_thread=False, isolation_level=None
        )
        self._cards.execute(
            "CREATE TABLE IF NOT EXISTS cards (thread_id TEXT PRIMARY KEY, channel TEXT, ts TEXT)"
        )
        self._lock = threading.Lock()
        self.app.action(APPROVE)(self._on_approve)
        self.app.action(REJECT)(self._on_reject)
        self.app.command("/desk")(self._on_desk)
        host.on_pending.append(self.post_approval)
        host.on_answered.append(self.update_outcome)

    def post_approval(self, thread_id: str, card: ApprovalCard) -> None:
        blocks = approval_blocks(thread_id, card)
        text = f"Approval needed: {card.order.line()}"
        known = self.card(thread_id)
        if known is not None:
            self.client.chat_update(channel=known[0], ts=known[1], text=text, blocks=blocks)
            return
        posted = self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
        with self._lock:
            self._cards.execute(
                "INSERT OR REPLACE INTO cards VALUES (?, ?, ?)",
                (thread_id, str(posted["channel"]), str(posted["ts"])),
            )

    def card(self, thread_id: str) -> tuple[str, str] | None:
        """(channel, ts) of the card posted for `thread_id`, if one was."""
        with self._lock:
            row = self._cards.execute(
                "SELECT channel, ts FROM cards WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def close(self) -> None:
        with self._lock:
            self._cards.close()

    def update_outcome(self, thread_id: str, turn: Turn, decision: str, approver: str) -> None:
        known = self.card(thread_id)
        if known is None or turn.pending is not None:
            return  # still waiting: post_approval refreshes the card with who approved
        text = outcome_text(turn, decision, approver)
        self.client.chat_update(
            channel=known[0], ts=known[1], text=text, blocks=outcome_blocks(text)
        )

    def _answer(self, body: dict[str, Any], respond: Respond, decision: str) -> None:
        user = str(body.get("user", {}).get("id", ""))
        thread_id = str(body["actions"][0].get("value", ""))
        if user not in self.approvers:
            self.host.record(
                "slack.approval_refused",
                {"user": user, "thread_id": thread_id, "decision": decision,
                 "why": "not a configured approver"},
                actor=f"slack:{user or 'unknown'}",
            )  # fmt: skip
            respond(
                text=f"<@{user}> is not an approver; nothing was {PAST[decision]}.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        try:
            self.host.answer(thread_id, decision, f"slack:{user}", f"{PAST[decision]} in Slack")
        except NotWaitingError:
            respond(text=f"thread {thread_id} is no longer waiting", replace_original=False)

    def _on_approve(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        self._answer(body, respond, "approve")

    def _on_reject(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        self._answer(body, respond, "reject")

    def _on_desk(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        text = str(command.get("text", "")).strip()
        if not text:
            ack(text="Ask the desk something, e.g. `/desk what is our exposure?`")
            return
        ack(text=f"working on: {text}")
        thread_id = f"slack-{command.get('channel_id', 'dm')}-{command.get('user_id', 'user')}"
        try:
            turn = self.host.ask(text, thread_id)
        except ThreadBusyError as exc:
            respond(text=str(exc), response_type="ephemeral")
            return
        lines = turn.answers or ["(no answer)"]
        if turn.pending is not None:
            lines.append(f"waiting for approval: {turn.pending.order.line()}")
        respond(text="\n".join(lines), response_type="in_channel")
