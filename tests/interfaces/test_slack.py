"""Slack approvals and /desk against a loopback Slack Web API, with requests signed the way
Slack signs them: approvals post Block Kit cards, an approver's click resumes the graph and
updates the card; forged, replayed and unsigned requests and non-approvers are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from core.store import Store, TradeLog
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.slack import SlackDesk
from tests.fakes.slack import TOKEN, SlackCalls, fake_slack
from tests.gateway_fixtures import default_limits_file
from tests.interfaces.conftest import auth, desk_settings
from tests.waiting import wait_until

SECRET = "slack-signing-secret-for-tests"
ALICE, BOB, MALLORY = "U0ALICE", "U0BOB", "U0MALLORY"


def slack_settings(tmp_path: Path, base: str, approvers: list[str]) -> Settings:
    return desk_settings(
        tmp_path, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
        slack_api_url=f"{base}/api/", slack_approvers=approvers,
    )  # fmt: skip


def signed(body: str, secret: str = SECRET, age_s: float = 0.0) -> dict[str, str]:
    stamp = str(int(time.time() - age_s))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click(base: str, user: str, thread_id: str, action: str = "approve_order") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "team": {"id": "T0DESK"},
        "api_app_id": "A0DESK",
        "token": "legacy",
        "container": {"type": "message", "channel_id": "C0DESK", "message_ts": "1.0"},
        "trigger_id": "1.2.3",
        "channel": {"id": "C0DESK"},
        "response_url": f"{base}/respond/{user}",
        "actions": [
            {"type": "button", "action_id": action, "block_id": "approval", "value": thread_id,
             "action_ts": str(time.time())}
        ],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


@pytest.fixture
def slack_desk(
    loaded: Store, tmp_path: Path
) -> Iterator[tuple[TestClient, SlackCalls, str, DeskHost]]:
    with fake_slack() as (base, calls):
        settings = slack_settings(tmp_path, base, [ALICE, BOB])
        with DeskSession(settings, loaded) as session:
            host = DeskHost(session)
            slack = SlackDesk(settings, host)
            with TestClient(create_app(settings, host, slack=slack)) as client:
                yield client, calls, base, host
            slack.close()


def pause_an_order(client: TestClient, calls: SlackCalls, thread: str = "big") -> dict[str, Any]:
    turn = client.post(f"/v1/chat/{thread}", json={"message": "buy 3 BTC"}, headers=auth("trader"))
    assert turn.json()["pending"] is not None
    [posted] = calls.wait_for("chat.postMessage")
    return posted


def test_an_approval_posts_a_card_and_an_approvers_click_fills_the_order(slack_desk):
    client, calls, base, host = slack_desk
    posted = pause_an_order(client, calls)
    assert posted["channel"] == "#desk-approvals"
    text = json.dumps(posted["blocks"])
    for expected in ("buy 3 bitstamp:BTC/USD", "Notional", "Gate reasons", "Risk", "approve_order",
                     "reject_order"):  # fmt: skip
        assert expected in text
    body = click(base, ALICE, "big")
    answered = client.post("/slack/events", content=body, headers=signed(body))
    assert answered.status_code == 200
    [update] = calls.wait_for("chat.update")
    assert update["ts"] == "1700000001.000100"
    assert "approved* by slack:U0ALICE: gate ACCEPT" in update["text"]
    assert "filled" in update["text"]
    assert "approve_order" not in json.dumps(update["blocks"]), "the buttons are gone"
    [fill] = TradeLog(host.session.store).fills()
    assert fill["quantity"] == 3


def test_a_click_by_a_non_approver_is_refused_and_recorded(slack_desk):
    client, calls, base, host = slack_desk
    pause_an_order(client, calls)
    body = click(base, MALLORY, "big")
    assert client.post("/slack/events", content=body, headers=signed(body)).status_code == 200
    [told] = calls.wait_for("response_url")
    assert "not an approver" in told["text"]
    assert told["response_type"] == "ephemeral"
    rows = host.session.store.client.query(
        "SELECT actor, payload FROM audit_log WHERE kind = 'slack.approval_refused'"
    ).result_rows
    assert rows
    assert rows[0][0] == "slack:U0MALLORY"
    assert host.pending_for("big") is not None, "the order still waits"
    assert calls.of("chat.update") == []
    assert TradeLog(host.session.store).fills() == []


@pytest.mark.parametrize(
    "headers_for",
    [
        lambda body: signed(body, secret="not-the-secret"),  # forged
        lambda body: signed(body, age_s=600),  # replayed: timestamp ten minutes old
        lambda body: {"Content-Type": "application/x-www-form-urlencoded"},  # unsigned
        lambda body: {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64},  # tampered
    ],
    ids=["forged", "replayed", "unsigned", "tampered"],
)
def test_forged_replayed_and_unsigned_requests_are_refused(slack_desk, headers_for):
    client, calls, base, host = slack_desk
    pause_an_order(client, calls)
    body = click(base, ALICE, "big")
    assert client.post("/slack/events", content=body, headers=headers_for(body)).status_code == 401
    assert host.pending_for("big") is not None
    # Then Bob's genuine click: the one answer the desk acts on is his, so the refused click
    # did nothing, then or later.
    genuine = click(base, BOB, "big")
    assert client.post("/slack/events", content=genuine, headers=signed(genuine)).status_code == 200
    [update] = calls.wait_for("chat.update")
    assert "approved* by slack:U0BOB" in update["text"]
    assert calls.of("response_url") == []
    assert len(TradeLog(host.session.store).fills()) == 1


def test_an_expired_approval_refuses_and_says_so(loaded: Store, tmp_path: Path):
    with fake_slack() as (base, calls):
        settings = slack_settings(tmp_path, base, [ALICE]).model_copy(
            update={"limits_path": default_limits_file(tmp_path, approval_ttl_ms=1)}
        )
        with DeskSession(settings, loaded) as session:
            host = DeskHost(session)
            with TestClient(create_app(settings, host, slack=SlackDesk(settings, host))) as client:
                pause_an_order(client, calls)
                card = host.pending_for("big")
                assert card is not None
                expires = card.expires_at
                wait_until(lambda: datetime.now(UTC) > expires, 5, what="the approval's expiry")
                body = click(base, ALICE, "big")
                client.post("/slack/events", content=body, headers=signed(body))
                [update] = calls.wait_for("chat.update")
    assert "APPROVAL_EXPIRED" in update["text"]
    assert TradeLog(loaded).fills() == []


def test_reject_in_slack_sends_nothing(slack_desk):
    client, calls, base, host = slack_desk
    pause_an_order(client, calls)
    body = click(base, BOB, "big", action="reject_order")
    client.post("/slack/events", content=body, headers=signed(body))
    [update] = calls.wait_for("chat.update")
    assert "*rejected* by slack:U0BOB" in update["text"]
    assert "DENY" in update["text"]
    assert TradeLog(host.session.store).fills() == []


def test_the_desk_slash_command_talks_to_the_pm(slack_desk):
    client, calls, base, _host = slack_desk
    body = urlencode(
        {
            "command": "/desk",
            "text": "what is our exposure?",
            "user_id": ALICE,
            "channel_id": "C0DESK",
            "team_id": "T0DESK",
            "token": "legacy",
            "trigger_id": "1.2.3",
            "response_url": f"{base}/respond/cmd",
        }
    )
    acked = client.post("/slack/events", content=body, headers=signed(body))
    assert acked.status_code == 200
    assert "working on: what is our exposure?" in acked.text
    [answer] = calls.wait_for("response_url")
    assert "equity" in answer["text"]
    assert "gross" in answer["text"]


def test_a_restarted_desk_updates_the_card_it_posted_before(loaded: Store, tmp_path: Path):
    with fake_slack() as (base, calls):
        settings = slack_settings(tmp_path, base, [ALICE])
        with DeskSession(settings, loaded) as session:
            host = DeskHost(session)
            slack = SlackDesk(settings, host)
            with TestClient(create_app(settings, host, slack=slack)) as client:
                pause_an_order(client, calls, thread="later")
            slack.close()
        # A new process: a new session and Slack app on the same data directory.
        with DeskSession(settings, loaded) as session:
            host = DeskHost(session)
            slack = SlackDesk(settings, host)
            with TestClient(create_app(settings, host, slack=slack)) as client:
                body = click(base, ALICE, "later")
                assert (
                    client.post("/slack/events", content=body, headers=signed(body)).status_code
                    == 200
                )
                [update] = calls.wait_for("chat.update")
            slack.close()
    assert update["ts"] == "1700000001.000100"
    assert "filled" in update["text"]
