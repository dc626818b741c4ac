"""`quantdesk serve`: one process with the desk, the HTTP API and web page, the Slack
endpoint (or Socket Mode), the scheduler, and (with `bus=True`) the agent services on the
Zenoh bus around the same desk: execution, the real-time risk loop and its dead-man switch,
monitoring with its alert sinks, data. Everything it opens, it closes."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from agents.services.launch import host_services
from agents.services.runtime import ServiceGroup
from core.settings import Settings
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.scheduler import Scheduler, load_schedule
from interfaces.slack import SlackDesk


def local_admin_key(settings: Settings) -> tuple[Settings, str | None]:
    """With no keys configured, make one admin key for this data directory (kept in
    `<data_dir>/api-key`, mode 0600) so a fresh desk is usable yet never open."""
    if settings.api_keys is not None:
        return settings, None
    path: Path = settings.data_dir / "api-key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    key = path.read_text().strip()
    return settings.model_copy(update={"api_keys": SecretStr(f"admin:admin:{key}")}), key


@dataclass
class Server:
    app: FastAPI
    host: DeskHost
    scheduler: Scheduler | None
    slack: SlackDesk | None
    services: ServiceGroup | None
    stack: ExitStack

    def close(self) -> None:
        self.stack.close()


def build(
    settings: Settings, *, schedule: bool = True, poll_s: float = 1.0, bus: bool = False
) -> Server:
    stack = ExitStack()
    try:
        session = stack.enter_context(DeskSession(settings))
        host = DeskHost(session)
        services = None
        if bus:
            # Closed after the scheduler (no turn is left to trade) and before the session.
            services = host_services(settings, session.desk, host.lock)
            stack.callback(services.close)
        scheduler = None
        if schedule:
            scheduler = Scheduler(
                host, load_schedule(settings.schedule_path), settings.data_dir / "scheduler.sqlite"
            )
            stack.callback(scheduler.close)
            scheduler.start_loop(poll_s)
        slack = None
        if settings.slack_bot_token is not None and settings.slack_signing_secret is not None:
            slack = SlackDesk(settings, host)
            stack.callback(slack.close)
            if settings.slack_app_token is not None:
                from slack_bolt.adapter.socket_mode import SocketModeHandler

                socket = SocketModeHandler(slack.app, settings.slack_app_token.get_secret_value())
                socket.connect()  # type: ignore[no-untyped-call]
                stack.callback(socket.close)
        app = create_app(
            settings, host, scheduler, slack if settings.slack_app_token is None else None
        )
        return Server(app, host, scheduler, slack, services, stack)
    except BaseException:
        stack.close()
        raise


@contextmanager
def serve_in_background(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `app` under uvicorn on a free port of `host`, on a thread of its own, for as long
    as the block lasts (tests and benchmarks); yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=0, log_config=None, log_level="warning",
                       lifespan="off")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
