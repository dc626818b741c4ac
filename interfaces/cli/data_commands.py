"""`quantdesk data ...`: load real or local data, fetch from an exchange, inspect the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from core.models.enums import Interval, SessionCalendar
from interfaces.cli import render
from interfaces.cli.settings import get_settings
from tools.ingest.real_datasets import DATASETS

# The store, pandas and the ingestion pipeline load when a command runs, not when the CLI
# starts (`quantdesk --help` lists every command without them).
if TYPE_CHECKING:
    from core.models.quality import DataQualityReport
    from core.store import Store

app = typer.Typer(help="Market data: load, fetch, status, quality.", no_args_is_help=True)
# Wide enough for the tables when output is piped (CI logs), where Rich assumes 80.
console = Console(width=None if Console().is_terminal else 120)


@contextmanager
def open_store() -> Iterator[Store]:
    """The configured store, or a clear message and exit code 2."""
    from core.store import Store, StoreConfigError, StoreLockedError

    try:
        store = Store.open(get_settings())
    except (StoreLockedError, StoreConfigError) as exc:
        console.print(f"[red]store unavailable:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        yield store
    finally:
        store.close()


def load_datasets(store: Store, names: list[str]) -> list[DataQualityReport]:
    """Load real datasets with a progress bar per dataset."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.ingest.pipeline import ingest_bars

    reports: list[DataQualityReport] = []
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks = {n: progress.add_task(n, total=2, stage="waiting") for n in names}
        for name in names:
            dataset = DATASETS[name]
            progress.update(tasks[name], stage=f"reading {dataset.package}")
            raw = dataset.read()
            progress.update(tasks[name], advance=1, stage=f"checking + storing {len(raw):,} rows")
            reports.append(ingest_bars(store, raw, source=name, calendar=dataset.calendar))
            progress.update(tasks[name], advance=1, stage="done")
    return reports


@app.command("load")
def load(
    datasets: Annotated[
        list[str] | None,
        typer.Argument(help=f"Real datasets to load: {', '.join(DATASETS)} (default: all)."),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="A CSV or Parquet file of OHLCV bars.")] = None,
    venue: Annotated[str | None, typer.Option(help="Venue id (with --file).")] = None,
    symbol: Annotated[str | None, typer.Option(help="Symbol (with --file).")] = None,
    interval: Annotated[Interval, typer.Option(help="Bar interval (with --file).")] = Interval.D1,
    calendar: Annotated[
        SessionCalendar, typer.Option(help="Session calendar (with --file).")
    ] = SessionCalendar.CONTINUOUS,
) -> None:
    """Load bars through quality control; loading the same data again stores nothing."""
    from tools.ingest.loaders import DataLoadError, load_csv, load_parquet
    from tools.ingest.pipeline import ingest_bars

    if file is not None:
        if not venue or not symbol:
            console.print("[red]--file needs --venue and --symbol[/]")
            raise typer.Exit(2)
        reader = load_parquet if file.suffix.lower() in (".parquet", ".pq") else load_csv
        try:
            raw = reader(file, venue=venue, symbol=symbol, interval=interval)
        except DataLoadError as exc:
            console.print(f"[red]cannot load:[/] {exc}")
            raise typer.Exit(2) from None
        with open_store() as store:
            reports = [ingest_bars(store, raw, source=str(file), calendar=calendar)]
        console.print(render.load_table(reports))
        return
    names = datasets or list(DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        console.print(f"[red]unknown dataset(s) {unknown}[/]; known: {', '.join(DATASETS)}")
        raise typer.Exit(2)
    with open_store() as store:
        reports = load_datasets(store, names)
    console.print(render.load_table(reports))


@app.command("fetch")
def fetch(
    symbol: Annotated[str, typer.Option(help="Unified ccxt symbol, e.g. BTC/USD.")],
    exchange: Annotated[str, typer.Option(help="ccxt exchange id.")] = "bitstamp",
    interval: Annotated[Interval, typer.Option()] = Interval.D1,
    since: Annotated[datetime | None, typer.Option(help="First bar (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 1000,
    api_url: Annotated[str | None, typer.Option(help="Override the exchange's API URL.")] = None,
) -> None:
    """Fetch OHLCV from an exchange through ccxt and load it through quality control."""
    from tools.ingest.ccxt_fetcher import DataFetchError, OhlcvRequest, fetch_ohlcv
    from tools.ingest.pipeline import ingest_bars

    request = OhlcvRequest(
        exchange=exchange,
        symbol=symbol,
        interval=interval,
        since=None if since is None else since.replace(tzinfo=UTC),
        limit=limit,
        api_url=api_url,
    )
    try:
        raw = fetch_ohlcv(request)
    except DataFetchError as exc:
        console.print(f"[red]fetch failed, nothing stored:[/] {exc}")
        raise typer.Exit(1) from None
    with open_store() as store:
        report = ingest_bars(
            store, raw, source=f"ccxt:{exchange}", calendar=SessionCalendar.CONTINUOUS
        )
    console.print(render.load_table([report]))


@app.command("status")
def status() -> None:
    """What the store holds: series with their spans, and rows per table."""
    from core.store import MarketDataStore

    with open_store() as store:
        console.print(render.series_table(MarketDataStore(store).series()))
        console.print(render.counts_table(store.row_counts()))
        where = store.path or store.dsn
        console.print(f"store: {'embedded chdb at ' if store.is_embedded else ''}{where}")


@app.command("quality")
def quality(
    venue: Annotated[str | None, typer.Option(help="Only this venue.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    details: Annotated[int, typer.Option(help="Quarantined rows to list.")] = 10,
) -> None:
    """The quality report: findings by check and severity, and the quarantined rows."""
    from core.store import QualityLog

    with open_store() as store:
        log = QualityLog(store)
        console.print(render.findings_table(log.events(venue=venue, symbol=symbol)))
        quarantined = log.quarantined()
        if venue is not None:
            quarantined = quarantined[quarantined["venue"] == venue]
        if symbol is not None:
            quarantined = quarantined[quarantined["symbol"] == symbol]
        console.print(render.quarantine_table(quarantined, limit=details))
