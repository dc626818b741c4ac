"""Intraday bars derived from real daily bars, labelled as derived.

Each day becomes a Brownian bridge from its open to its close, mapped monotonically so that
the path's extremes are the day's real high and low. Volume is split at random across the
day. Used where the desk needs more volume than the real data holds (benchmarks); the bars
carry `derived = True` and a `derived:` source naming the real series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.store.bar_frame import BAR_COLUMNS

MINUTES_PER_DAY = 1440


def _monotone_map(path: np.ndarray, knots_x: np.ndarray, knots_y: np.ndarray) -> np.ndarray:
    """Row-wise piecewise-linear map through sorted knots (vectorised np.interp)."""
    out = np.empty_like(path)
    for k in range(knots_x.shape[1] - 1):
        x0, x1 = knots_x[:, k : k + 1], knots_x[:, k + 1 : k + 2]
        y0, y1 = knots_y[:, k : k + 1], knots_y[:, k + 1 : k + 2]
        inside = (path >= x0) & (path <= x1)
        width = np.where(x1 > x0, x1 - x0, 1.0)
        out = np.where(inside, y0 + (path - x0) * (y1 - y0) / width, out)
    return out


def minute_bars_from_daily(daily: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """1-minute bars for every day of a clean daily bar frame of one series."""
    rng = np.random.default_rng(seed)
    days = len(daily)
    o, h, lo, c = (daily[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    steps = rng.standard_normal((days, MINUTES_PER_DAY)).cumsum(axis=1)
    t = np.linspace(0.0, 1.0, MINUTES_PER_DAY + 1)[1:]
    bridge = np.concatenate([np.zeros((days, 1)), steps - t * steps[:, -1:]], axis=1)
    ramp = np.linspace(0.0, 1.0, MINUTES_PER_DAY + 1)[None, :]
    path = o[:, None] + bridge * (np.abs(c - o) + 1e-9)[:, None] + ramp * (c - o)[:, None]
    pmin, pmax = path.min(axis=1), path.max(axis=1)
    first, last = np.minimum(o, c), np.maximum(o, c)
    knots_x = np.sort(np.stack([pmin, path[:, 0], path[:, -1], pmax], axis=1), axis=1)
    knots_y = np.stack([lo, first, last, h], axis=1)
    prices = _monotone_map(path, knots_x, knots_y)
    # Where the path's extreme sits on the open or close, the map cannot reach the day's
    # high/low; pin them on the interior minutes where the path peaks and troughs.
    rows = np.arange(days)
    prices[rows, 1 + path[:, 1:-1].argmin(axis=1)] = lo
    prices[rows, 1 + path[:, 1:-1].argmax(axis=1)] = h
    opens, closes = prices[:, :-1], prices[:, 1:]
    volume = (
        rng.dirichlet(np.ones(MINUTES_PER_DAY), size=days) * daily["volume"].to_numpy()[:, None]
    )
    start = pd.DatetimeIndex(daily["ts"]).as_unit("ms").asi8
    ts = (start[:, None] + np.arange(MINUTES_PER_DAY)[None, :] * 60_000).ravel()
    base = daily.iloc[0]
    return pd.DataFrame(
        {
            "venue": base["venue"],
            "symbol": base["symbol"],
            "interval": "1m",
            "ts": pd.to_datetime(ts, unit="ms", utc=True).astype("datetime64[ms, UTC]"),
            "open": opens.ravel(),
            "high": np.maximum(opens, closes).ravel(),
            "low": np.minimum(opens, closes).ravel(),
            "close": closes.ravel(),
            "volume": volume.ravel(),
            "derived": True,
            "source": f"derived:brownian-bridge({base['venue']}/{base['symbol']} 1d)",
        }
    ).loc[:, BAR_COLUMNS]
