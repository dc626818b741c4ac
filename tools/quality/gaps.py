"""Missing bars, judged against the market's session calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.market import Interval, SessionCalendar

_FX_WEEK_OPEN_HOUR = 21  # Sunday 21:00 UTC open, Friday 21:00 UTC close


def in_session(ts: pd.DatetimeIndex, calendar: SessionCalendar) -> np.ndarray:
    """Whether each timestamp falls in the market's trading week."""
    if calendar is SessionCalendar.CONTINUOUS:
        return np.ones(len(ts), dtype=bool)
    weekday = ts.day_of_week.to_numpy()
    if calendar is SessionCalendar.WEEKDAYS:
        weekdays: np.ndarray = weekday < 5
        return weekdays
    hour = ts.hour.to_numpy()
    closed: np.ndarray = (
        (weekday == 5)
        | ((weekday == 4) & (hour >= _FX_WEEK_OPEN_HOUR))
        | ((weekday == 6) & (hour < _FX_WEEK_OPEN_HOUR))
    )
    return ~closed


def missing_bars(ts: pd.Series, interval: Interval, calendar: SessionCalendar) -> np.ndarray:
    """For each bar after the first, how many expected bars are missing before it."""
    index = pd.DatetimeIndex(ts).as_unit("ns")
    if len(index) < 2:
        return np.zeros(0, dtype=np.int64)
    if interval is Interval.MO1:
        months = index.year.to_numpy() * 12 + index.month.to_numpy()
        missing_months: np.ndarray = np.maximum(np.diff(months) - 1, 0)
        return missing_months
    step = pd.Timedelta(interval.duration)
    delta = np.diff(index.asi8)
    slots = np.rint(delta / step.value).astype(np.int64) - 1
    if calendar is SessionCalendar.CONTINUOUS:
        return np.maximum(slots, 0)
    if interval is Interval.D1 and calendar is SessionCalendar.WEEKDAYS:
        days = index.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
        business_days: np.ndarray = np.maximum(np.busday_count(days[:-1] + 1, days[1:]), 0)
        return business_days
    missing = np.zeros(len(slots), dtype=np.int64)
    for i in (int(k) for k in np.flatnonzero(slots > 0)):
        expected = pd.date_range(index[i] + step, index[i + 1] - step, freq=step)
        missing[i] = int(in_session(expected, calendar).sum())
    return missing
