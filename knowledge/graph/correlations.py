"""CORRELATED_WITH weights: correlation of daily returns over the latest common window."""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pandas as pd

from core.store import Store
from knowledge.graph.nodes import CorrelationRow

DAILY_OR_FINER = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")


def daily_closes(store: Store) -> pd.DataFrame:
    """Last close per UTC day for every instrument with bars of a day or finer, one column per
    instrument id (`venue:SYMBOL`)."""
    frame = store.client.query_df(
        "SELECT concat(venue, ':', symbol) AS id, toDate(ts) AS day, argMax(close, ts) AS close "
        "FROM bars WHERE interval IN {intervals:Array(String)} GROUP BY id, day",
        parameters={"intervals": list(DAILY_OR_FINER)},
    )
    if frame.empty:
        return pd.DataFrame()
    return frame.pivot(index="day", columns="id", values="close").sort_index()


def correlations(
    closes: pd.DataFrame, window_days: int = 90, min_observations: int = 30
) -> list[CorrelationRow]:
    """Pearson correlation of log returns over each pair's latest `window_days` common days;
    pairs with fewer than `min_observations` common returns get no edge."""
    if closes.empty:
        return []
    ids = list(closes.columns)
    logs = np.log(closes.to_numpy(dtype=float))
    values = np.vstack([np.full(len(ids), np.nan), np.diff(logs, axis=0)])
    days = pd.to_datetime(closes.index)
    rows: list[CorrelationRow] = []
    for i, a in enumerate(ids):
        for j in range(i + 1, len(ids)):
            both = np.isfinite(values[:, i]) & np.isfinite(values[:, j])
            idx = np.flatnonzero(both)[-window_days:]
            if len(idx) < min_observations:
                continue
            x, y = values[idx, i], values[idx, j]
            if x.std() == 0 or y.std() == 0:
                continue
            weight = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
            as_of = days[idx[-1]].to_pydatetime().replace(tzinfo=UTC)
            rows.append(
                CorrelationRow(
                    a=a, b=ids[j], weight=round(weight, 6), window_days=window_days,
                    observations=len(idx), as_of=as_of,
                )
            )  # fmt: skip
    return rows
