"""What each agent did last in this process: its last line, when, how many steps, and its
errors; and, when the agent services run on the bus, their states and heartbeat ages as
the monitor service hears them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LINE_CHARS = 300


@dataclass
class _Seen:
    last_action: str = ""
    last_at: str | None = None
    steps: int = 0
    errors: int = 0
    last_error: str | None = None
    failed_last: bool = False


@dataclass
class AgentBoard:
    """Filled by the desk host as turns run; read by the agents panel."""

    known: tuple[str, ...] = ()
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self, agent: str, text: str) -> None:
        with self._lock:
            seen = self._seen.setdefault(agent, _Seen())
            seen.steps += 1
            seen.last_at = datetime.now(UTC).isoformat()
            seen.failed_last = False
            if text:
                seen.last_action = text[:LINE_CHARS]

    def error(self, agent: str, text: str) -> None:
        with self._lock:
            seen = self._seen.setdefault(agent, _Seen())
            seen.errors += 1
            seen.last_error = text[:LINE_CHARS]
            seen.last_at = datetime.now(UTC).isoformat()
            seen.failed_last = True

    def view(self) -> list[dict[str, Any]]:
        with self._lock:
            names = list(dict.fromkeys([*self.known, *self._seen]))
            out = []
            for name in names:
                seen = self._seen.get(name, _Seen())
                status = "error" if seen.failed_last else ("ok" if seen.steps else "idle")
                out.append(
                    {
                        "name": name,
                        "status": status,
                        "last_action": seen.last_action,
                        "last_at": seen.last_at,
                        "steps": seen.steps,
                        "errors": seen.errors,
                        "last_error": seen.last_error,
                    }
                )
            return out


def bus_view(services: Iterable[Any] | None) -> dict[str, Any]:
    """The agent services of this process on the bus: each one's state, and the heartbeat
    age of every agent the monitor service hears (None when no service runs here)."""
    if services is None:
        return {"running": False, "services": []}
    running = list(services)
    heard: dict[str, float] = {}
    for service in running:
        last_seen = getattr(service, "last_seen", None)
        if isinstance(last_seen, dict):
            heard = dict(last_seen)
    now = time.monotonic()
    rows = [
        {
            "name": s.name,
            "state": s.state(),
            "heartbeat_age_s": round(now - heard[s.name], 2) if s.name in heard else None,
        }
        for s in running
    ]
    ours = {s.name for s in running}
    rows += [
        {"name": name, "state": "remote", "heartbeat_age_s": round(now - at, 2)}
        for name, at in sorted(heard.items())
        if name not in ours
    ]
    return {"running": True, "services": rows}
