"""Fault injection: stop the process dead at a named point of the order path.

`QUANTDESK_CRASH_AT=fill.booked` kills the process (SIGKILL, as `kill -9` would) the first
time the order path passes `fill.booked`; `fill.booked:3` the third time. Unset, a crash
point costs one dictionary lookup. The crash-point tests and the kill soak use it to prove
that no order is doubled or lost wherever the desk dies.
"""

from __future__ import annotations

import os
import signal
from typing import Literal, get_args

CrashPoint = Literal[
    "order.journaled",
    "gate.decided",
    "venue.acked",
    "audit.written",
    "fill.booked",
    "order.booked",
    "checkpoint.before",
    "checkpoint.after",
    "approval.answered",
    "approval.token",
]
CRASH_POINTS: tuple[CrashPoint, ...] = get_args(CrashPoint)
"""Where the order path can be stopped, in the order an approved order passes them."""
StreamCrashPoint = Literal["stream.decoded", "stream.stored"]
"""Where the market-data dataflow can be stopped: a record read, a batch of bars stored."""
ResearchCrashPoint = Literal["sweep.first_try"]
"""Where a sweep's task on the cluster can die: its first try (a retry never passes it)."""
SafetyCrashPoint = Literal["latch.applied"]
"""Where the gate's fast path can die: a move it latched, just journaled by the gateway."""
AuditCrashPoint = Literal["decision.journaled", "decision.written"]
"""Where a deferred audit row can die: journaled only, or in the audit log but still held."""

ENV = "QUANTDESK_CRASH_AT"
_hits: dict[str, int] = {}


def crash_point(
    name: CrashPoint | StreamCrashPoint | ResearchCrashPoint | SafetyCrashPoint | AuditCrashPoint,
) -> None:
    """Die here if `QUANTDESK_CRASH_AT` names this point (and this is its Nth pass)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
