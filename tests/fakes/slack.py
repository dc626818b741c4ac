"""A loopback server that speaks the Slack Web API's wire format (POST /api/<method>, form or
JSON bodies, `Authorization: Bearer`, `{"ok": ...}` answers) and takes `response_url` posts.
It records every call, for tests to read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import send, serve
from tests.waiting import wait_until

TOKEN = "xoxb-test-0000"
CHANNEL_ID = "C0DESK"


@dataclass
class SlackCalls:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for name, body in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The `method` calls, once there are `count` of them."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.of(method)
            return found if len(found) >= count else None

        return wait_until(
            enough,
            timeout,
            what=f"{count} Slack {method} call(s)",
            show=lambda: self.of(method),
        )


def _body(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0))).decode()
    if handler.headers.get("Content-Type", "").startswith("application/json"):
        return dict(json.loads(raw or "{}"))
    fields = {k: v[0] for k, v in parse_qs(raw).items()}
    for key in ("blocks", "attachments"):
        if key in fields:
            fields[key] = json.loads(fields[key])
    return fields


@contextmanager
def fake_slack() -> Iterator[tuple[str, SlackCalls]]:
    """Yields (base URL, calls). Web API methods live under /api/, response URLs under
    /respond/."""
    calls = SlackCalls()
    stamp = [1_700_000_000]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = _body(self)
            if self.path.startswith("/respond/"):
                with calls.lock:
                    calls.calls.append(("response_url", body))
                send(self, 200, b"ok", "text/plain")
                return
            method = self.path.removeprefix("/api/")
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                send(self, 200, json.dumps({"ok": False, "error": "invalid_auth"}).encode())
                return
            with calls.lock:
                calls.calls.append((method, body))
                stamp[0] += method == "chat.postMessage"
                ts = f"{stamp[0]}.000100"
            answers: dict[str, dict[str, Any]] = {
                "auth.test": {"url": "https://desk.slack.com/", "team": "Desk", "user": "quantdesk",
                              "team_id": "T0DESK", "user_id": "U0BOT", "bot_id": "B0BOT"},
                "chat.postMessage": {"channel": CHANNEL_ID, "ts": ts,
                                     "message": {"text": body.get("text"), "ts": ts}},
                "chat.update": {"channel": body.get("channel"), "ts": body.get("ts"),
                                "text": body.get("text")},
            }  # fmt: skip
            if method not in answers:
                send(self, 200, json.dumps({"ok": False, "error": "unknown_method"}).encode())
                return
            send(self, 200, json.dumps({"ok": True, **answers[method]}).encode())

    with serve(Handler) as port:
        yield f"http://127.0.0.1:{port}", calls
