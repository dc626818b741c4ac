"""What every agent service shares: its bus connection, heartbeats, and a clean stop.

Which process owns what: chdb allows one process per data path, so the execution service
owns the embedded store (orders, fills, audit) and the gateway, and listens on the bus hub
endpoint; the other services connect to it and reach the store only through it, over the
bus. With a ClickHouse server (QUANTDESK_STORE_DSN=http://...) any process may open it."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from core.bus import Bus, Heartbeat, Keys
from core.settings import Settings
from core.telemetry import serve_metrics

log = logging.getLogger(__name__)


def open_bus(settings: Settings, hub: bool) -> Bus:
    """The hub (the store owner) listens on `bus_hub`; everyone else listens on a free
    loopback port and connects to the hub (and to `bus_connect`)."""
    if settings.bus_mode == "client":
        return Bus.open("client", connect=[settings.bus_hub, *settings.bus_connect])
    if hub:
        # The hub runs as a Zenoh router, so a peer that joins late (or never meets another
        # directly) still gets every message routed through it.
        return Bus.open("router", listen=[settings.bus_hub], connect=settings.bus_connect)
    return Bus.open(
        "peer", listen=["tcp/127.0.0.1:0"], connect=[settings.bus_hub, *settings.bus_connect]
    )


class Service:
    name = "service"

    def __init__(self, settings: Settings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.stopping = threading.Event()
        self._seq = 0

    def state(self) -> str:
        return "ok"

    def beat(self) -> None:
        self.bus.publish(
            Keys.health(self.name),
            Heartbeat(agent=self.name, seq=self._seq, pid=os.getpid(), state=self.state()),
        )
        self._seq += 1

    def _heartbeats(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_interval_s):
            try:
                self.beat()
            except Exception:
                log.exception("%s: heartbeat failed", self.name)

    def tick(self) -> None:
        """Periodic work of the service (every 50 ms); none by default."""

    def start(self) -> None:
        """Announce the service and keep its heartbeats going."""
        self.beat()
        threading.Thread(
            target=self._heartbeats, name=f"{self.name}-heartbeat", daemon=True
        ).start()
        print(f"{self.name} ready", flush=True)

    def loop(self) -> None:
        while not self.stopping.wait(0.05):
            try:
                self.tick()
            except Exception:
                log.exception("%s: tick failed", self.name)

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT."""
        run_together([self], self.settings.metrics_port)

    def close(self) -> None:
        self.bus.close()


class ServiceGroup:
    """Services on threads of this process, each on its own bus session — the same code as
    one per process: `start()` announces them and starts their loops, `close()` stops the
    loops and closes them in reverse order."""

    def __init__(
        self, services: list[Service], on_close: list[Callable[[], None]] | None = None
    ) -> None:
        self.services = services
        self.on_close = on_close or []
        self._loops: list[threading.Thread] = []

    def start(self) -> None:
        for service in self.services:
            service.start()
            thread = threading.Thread(target=service.loop, name=f"{service.name}-loop")
            thread.start()
            self._loops.append(thread)

    def stop(self) -> None:
        for service in self.services:
            service.stopping.set()

    def close(self) -> None:
        for undo in self.on_close:
            undo()
        self.stop()
        for thread in self._loops:
            thread.join(timeout=10)
        for service in reversed(self.services):
            service.close()


class ShutdownSignals:
    """SIGTERM (what systemd, Kubernetes and `docker stop` send) and SIGINT (Ctrl-C) ask for
    the same graceful stop. While installed, either one sets `requested`, keeps the first
    signal in `received` and calls each `on_signal` callback (on the main thread, between two
    bytecodes: callbacks only set flags); the previous handlers come back on exit."""

    handled = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.received: signal.Signals | None = None
        self.on_signal: list[Callable[[signal.Signals], None]] = []
        self._previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        if self.received is None:
            self.received = sig
        self.requested.set()
        for callback in self.on_signal:
            callback(sig)

    def __enter__(self) -> ShutdownSignals:
        for sig in self.handled:
            previous = signal.signal(sig, self._handle)
            self._previous[sig] = signal.SIG_DFL if previous is None else previous
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


def run_together(services: list[Service], metrics_port: int | None) -> None:
    """Run services in this process until SIGTERM or SIGINT, then close them."""
    group = ServiceGroup(services)
    # The handlers stay installed while the group closes: a second signal must not cut the
    # close short (an execution service flushes its gateway's audit and trade buffers there).
    with ShutdownSignals() as shutdown:
        shutdown.on_signal.append(lambda sig: group.stop())
        if metrics_port is not None:
            port = serve_metrics(metrics_port)
            log.info("metrics on http://127.0.0.1:%d/metrics", port)
        group.start()
        if len(services) > 1:
            print("all ready", flush=True)
        shutdown.requested.wait()
        group.close()
    received = shutdown.received.name if shutdown.received is not None else "request"
    log.info("stopped by %s: %s closed", received, ", ".join(s.name for s in services))
