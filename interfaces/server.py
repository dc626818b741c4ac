"""`quantdesk serve`: one process with the desk, the HTTP API and web page, the Slack
endpoint (or Socket Mode), the scheduler, and (with `bus=True`) the agent services on the
Zenoh bus around the same desk: execution, the real-time risk loop and its dead-man switch,
monitoring with its alert sinks, data. Everything it opens, it closes."""

from __future__ import annotations

import os
import secrets
import signal
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
from agents.services.runtime import ServiceGroup, ShutdownSignals
from core.settings import Settings
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.scheduler import Scheduler, load_schedule
from interfaces.slack import SlackDesk


class HttpServerError(RuntimeError):
    """uvicorn stopped without being asked to (most often: the port was taken)."""


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

    def serve_http(self, host: str, port: int, shutdown: ShutdownSignals) -> None:
        """Serve the API and page on host:port until `shutdown` is requested (SIGTERM or
        SIGINT), then return once open requests are answered; the caller closes.

        uvicorn runs on a thread of its own because on the main thread it takes the signals
        itself and, once drained, raises the one it caught again: SIGTERM's default action then
        ended the process (exit 143) before the desk was closed. Here the main thread keeps
        the signals, so SIGTERM and SIGINT take one path. A second signal stops waiting for
        open connections; the close still runs."""
        http = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_config=None))

        def stop(sig: signal.Signals) -> None:
            self.app.state.closing.set()
            http.force_exit = http.should_exit
            http.should_exit = True

        shutdown.on_signal.append(stop)
        if shutdown.requested.is_set():  # a signal came while the desk was opening
            return
        thread = threading.Thread(target=http.run, name="uvicorn")
        thread.start()
        # A blocking join is interrupted by signals on POSIX, so the handlers run meanwhile.
        thread.join()
        if not shutdown.requested.is_set():
            raise HttpServerError(f"the HTTP server on {host}:{port} stopped (see the log above)")

    def close(self, stopped_by: signal.Signals | None = None) -> None:
        """Close everything `build` opened, in reverse: the agent services and the bus, the
        scheduler, Slack, then the desk (its gateway flushes the audit and trade buffers) and
        the store. With `stopped_by`, an audit row says the desk was shut down and why."""
        if stopped_by is not None:
            self.host.record(
                "serve.shutdown", {"signal": stopped_by.name, "pid": os.getpid()}, actor="serve"
            )
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
            settings, host, scheduler, slack if settings.slack_app_token is None else None, services
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
                       lifespan="on")
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
        closing = getattr(app.state, "closing", None)
        if closing is not None:
            closing.set()
        server.should_exit = True
        thread.join(timeout=10)
