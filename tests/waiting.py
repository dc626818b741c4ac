"""The one way a test waits: on a condition, polled with a short step, never a fixed sleep.

A test that needs time to pass (an approval to expire, a process to come up, a message to
arrive) waits until what it needs holds, and a test that checks that something did *not*
happen waits for something that would have come after it (a later message on the same
ordered channel, a loop's next ticks), then checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 10.0,
    *,
    what: str,
    step: float = 0.02,
    show: Callable[[], object] | None = None,
) -> T:
    """Call `condition` every `step` seconds until it returns something truthy, and return
    that. After `timeout` seconds fail, naming `what` and showing the last value `condition`
    returned, or `show()` when given (the state worth reading when it does not come). An
    exception `condition` raises is not caught: a process that died fails at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            last = show() if show is not None else value
            raise AssertionError(f"not within {timeout:g} s: {what} (last seen: {last!r})")
        time.sleep(step)
