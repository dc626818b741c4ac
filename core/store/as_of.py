"""The store seen as of a simulated time, for a replay of the desk over history: bar reads
end at the last bar closed by then and a read that asks past it is refused; every query's
result can be probed for anything stamped after it (the leakage probe). Outside a replay
the store has no as-of and none of this runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.models.market import Interval

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class LookAheadError(RuntimeError):
    """A read asked for data after the simulated now."""


class LeakageError(AssertionError):
    """Something the desk read carried a stamp after the simulated now."""


@dataclass(frozen=True)
class Leak:
    source: str
    stamp: datetime
    now: datetime


def visible_until(now: datetime, interval: str) -> datetime:
    """The latest bar open time a reader may see at `now`: a bar is known once it closed."""
    try:
        length = Interval(interval).duration
    except ValueError:
        length = timedelta(0)
    return now - length


@dataclass
class AsOf:
    """The simulated now. `frames` holds each series' bars read once at the replay's start
    (history does not change during a replay), so reads cost a slice, not a query."""

    now: datetime
    frames: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)
    stamps: dict[tuple[str, str, str], np.ndarray[Any, Any]] = field(default_factory=dict)
    """Each held frame's `ts` as naive UTC datetime64, for searching."""
    probe: bool = True
    leaks: list[Leak] = field(default_factory=list)
    reads: int = 0
    """Results the probe looked at."""

    def __post_init__(self) -> None:
        self.now = _aware(self.now)

    def move_to(self, now: datetime) -> None:
        now = _aware(now)
        if now < self.now:
            raise ValueError(f"the replay clock cannot go back from {self.now} to {now}")
        self.now = now

    def refuse_past_now(self, what: str, end: datetime) -> None:
        if _aware(end) > self.now:
            raise LookAheadError(
                f"{what}: a read up to {end.isoformat()} is past the simulated now "
                f"{self.now.isoformat()}"
            )

    def observe(self, source: str, values: Iterable[Any]) -> None:
        """Record any timestamp among `values` that lies after the simulated now."""
        if not self.probe:
            return
        self.reads += 1
        latest: datetime | None = None
        for value in values:
            stamp = _stamp(value)
            if stamp is not None and (latest is None or stamp > latest):
                latest = stamp
        if latest is not None and latest > self.now:
            self.leaks.append(Leak(source, latest, self.now))

    def assert_clean(self) -> None:
        if self.leaks:
            first = self.leaks[0]
            raise LeakageError(
                f"{len(self.leaks)} read(s) returned data stamped after the simulated now; "
                f"first: {first.source} returned {first.stamp.isoformat()} at "
                f"{first.now.isoformat()}"
            )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        # A calendar day is known from its own midnight on.
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if hasattr(value, "to_pydatetime"):
        try:
            return _aware(value.to_pydatetime())
        except (TypeError, ValueError):
            return None
    return None


class ProbedClient:
    """The store's client with every query's rows shown to the leakage probe first; all
    else passes through unchanged."""

    def __init__(self, client: Any, as_of: AsOf) -> None:
        self._client = client
        self._as_of = as_of

    def query(self, *args: Any, **kwargs: Any) -> Any:
        result = self._client.query(*args, **kwargs)
        sql = str(args[0] if args else kwargs.get("query", ""))
        self._as_of.observe(f"query: {' '.join(sql.split())[:120]}", _cells(result.result_rows))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _cells(rows: Iterable[Iterable[Any]]) -> Iterable[Any]:
    for row in rows:
        yield from row


def frame_cells(frame: pd.DataFrame) -> Iterable[Any]:
    """The datetime columns' values of a frame, for the probe."""
    for column in frame.columns:
        if str(frame[column].dtype).startswith("datetime64") and len(frame):
            yield frame[column].max()
