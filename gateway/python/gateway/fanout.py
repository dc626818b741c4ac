"""Who else hears what the gate did: listeners get every batch of engine events (the bus
publisher, the desk's services) and every bar the gate accepts. A listener that raises is
logged; the gate's decision stands either way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.models.market import Bar

EventListener = Callable[[list[dict[str, Any]]], None]
BarListener = Callable[[Bar], None]
log = logging.getLogger(__name__)


class EventFanout:
    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._bar_listeners: list[BarListener] = []

    def listen(self, listener: EventListener) -> Callable[[], None]:
        """Hand every batch of engine events to `listener`; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def listen_bars(self, listener: BarListener) -> Callable[[], None]:
        self._bar_listeners.append(listener)
        return lambda: self._bar_listeners.remove(listener)

    def events(self, events: list[dict[str, Any]]) -> None:
        for listener in self._listeners if events else ():
            try:
                listener(events)
            except Exception:
                log.exception("gateway: an event listener failed")

    def bar(self, bar: Bar) -> None:
        for listener in self._bar_listeners:
            try:
                listener(bar)
            except Exception:
                log.exception("gateway: a bar listener failed")
