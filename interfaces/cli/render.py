"""Rich tables for what the desk holds and what quality control found."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from rich.table import Table

# The tables render what a command already loaded: pandas and the store are its imports.
if TYPE_CHECKING:
    import pandas as pd

    from core.models.quality import DataQualityReport
    from core.store import SeriesSummary


def _when(ts: datetime) -> str:
    return f"{ts:%Y-%m-%d}" if (ts.hour, ts.minute) == (0, 0) else f"{ts:%Y-%m-%d %H:%M}"


def series_table(series: list[SeriesSummary]) -> Table:
    table = Table(title="Market data held", title_justify="left")
    for column in ("venue", "symbol", "interval", "bars", "first", "last", "source"):
        table.add_column(column, justify="right" if column == "bars" else "left", no_wrap=True)
    for s in series:
        table.add_row(
            s.venue,
            s.symbol,
            s.interval,
            f"{s.bars:,}",
            _when(s.first),
            _when(s.last),
            ", ".join(src.split("==")[0] for src in s.sources)
            + (" (derived)" if s.derived else ""),
        )
    return table


def counts_table(counts: dict[str, int]) -> Table:
    table = Table(title="Store tables", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    return table


def load_table(reports: list[DataQualityReport]) -> Table:
    table = Table(title="Loads", title_justify="left")
    for column in (
        "source",
        "series",
        "rows in",
        "stored",
        "already held",
        "quarantined",
        "findings",
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    for r in reports:
        table.add_row(
            r.source,
            str(len(r.series)),
            f"{r.rows_in:,}",
            f"{r.rows_stored:,}",
            f"{r.rows_already_stored:,}",
            f"{r.rows_quarantined:,}",
            f"{len(r.events):,}",
        )
    return table


_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def findings_table(events: pd.DataFrame) -> Table:
    table = Table(title="Data-quality findings (by check)", title_justify="left")
    for column in ("check", "severity", "action", "events", "rows", "series"):
        table.add_column(
            column, justify="right" if column in ("events", "rows", "series") else "left"
        )
    if events.empty:
        return table
    grouped = (
        events.groupby(["check_name", "severity", "action"], sort=False)
        .agg(
            events=("detail", "size"),
            rows=("row_count", "sum"),
            series=(
                "symbol",
                lambda s: len(set(zip(events.loc[s.index, "venue"], s, strict=True))),
            ),
        )
        .reset_index()
    )
    order = {"error": 0, "warning": 1, "info": 2}
    grouped = grouped.sort_values(
        ["severity", "events"], key=lambda c: c.map(order) if c.name == "severity" else -c
    )
    for row in grouped.itertuples(index=False):
        style = _SEVERITY_STYLE.get(str(row.severity), "")
        table.add_row(
            str(row.check_name),
            f"[{style}]{row.severity}[/]",
            str(row.action),
            f"{row.events:,}",
            f"{row.rows:,}",
            f"{row.series:,}",
        )
    return table


def quarantine_table(quarantined: pd.DataFrame, limit: int = 10) -> Table:
    import pandas as pd

    reasons = Counter(r for rs in quarantined["reasons"] for r in rs)
    by_reason = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
    title = f"Quarantined rows: {len(quarantined):,} ({by_reason})"
    table = Table(title=title, title_justify="left")
    for column in ("venue", "symbol", "ts", "open", "high", "low", "close", "reasons"):
        table.add_column(column)
    for row in quarantined.head(limit).to_dict("records"):
        ts = "NaT" if pd.isna(row["ts"]) else f"{pd.Timestamp(row['ts']):%Y-%m-%d %H:%M}"
        table.add_row(
            str(row["venue"]),
            str(row["symbol"]),
            ts,
            *(f"{row[c]:.6g}" for c in ("open", "high", "low", "close")),
            ", ".join(row["reasons"]),
        )
    return table
