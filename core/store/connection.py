"""The store: one clickhouse-connect client, embedded (chdb) or a ClickHouse server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from core.closing import Closing
from core.settings import Settings
from core.store import embedded_lock
from core.store.as_of import AsOf, ProbedClient
from core.store.bulk import BulkPath
from core.store.migrate import Migration, migrate

TABLES = (
    "bars",
    "trades",
    "bars_quarantine",
    "data_quality_events",
    "orders",
    "fills",
    "position_snapshots",
    "audit_log",
    "strategy_lifecycle",
)

# Arrow results are LZ4-compressed by default; in-process (chdb) that costs ~40% of a
# one-year minute-bar read and saves nothing.
_CLIENT_SETTINGS = {"output_format_arrow_compression_method": "none"}


class StoreConfigError(ValueError):
    """The DSN cannot be used."""


def embedded_path(dsn: str) -> Path | None:
    """The data path of a `chdb:///abs/path` DSN; None for a server DSN."""
    parsed = urlparse(dsn)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme != "chdb":
        raise StoreConfigError(
            f"unknown store DSN scheme {parsed.scheme!r}: use chdb:// or http(s)://"
        )
    if parsed.netloc or not parsed.path.startswith("/"):
        raise StoreConfigError(f"embedded DSN must be chdb:///absolute/path, got {dsn!r}")
    return Path(parsed.path)


class Store(Closing):
    """An open store; the same SQL runs on chdb and on a ClickHouse server.

    `write_lock` serialises check-then-insert sequences (idempotent loads) in this process;
    across processes the embedded path lock guarantees there is only one writer.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.path = embedded_path(dsn)
        self.write_lock = threading.RLock()
        if self.path is not None:
            embedded_lock.acquire(self.path)
            try:
                self.client: Client = clickhouse_connect.get_client(
                    dsn=f"chdb://{self.path}", settings=_CLIENT_SETTINGS
                )
            except Exception:
                embedded_lock.release(self.path)
                raise
        else:
            self.client = clickhouse_connect.get_client(dsn=dsn, settings=_CLIENT_SETTINGS)
        try:
            self.bulk = BulkPath(self.client, self.path, TABLES)
        except Exception:
            self.client.close()
            if self.path is not None:
                embedded_lock.release(self.path)
            raise
        self._closed = False
        self.as_of: AsOf | None = None
        """Set by a replay: reads see the store as of its simulated now."""

    def replay_as_of(self, as_of: AsOf) -> None:
        """From now on, read as of `as_of.now` and show every query's rows to its probe."""
        self.as_of = as_of
        self.client = cast(Client, ProbedClient(self.client, as_of))
        self.bulk.as_of = as_of

    def now(self) -> datetime:
        """When a row written now happened: the simulated now in a replay, else the wall
        clock."""
        return self.as_of.now if self.as_of is not None else datetime.now(UTC)

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """Open the configured store and bring its schema up to date."""
        store = cls(settings.resolved_store_dsn)
        try:
            store.migrate()
        except Exception:
            store.close()
            raise
        return store

    @property
    def is_embedded(self) -> bool:
        return self.path is not None

    def migrate(self) -> list[Migration]:
        with self.write_lock:
            return migrate(self.client)

    def row_counts(self) -> dict[str, int]:
        """Rows per desk table."""
        rows = self.client.query(
            "SELECT name, total_rows FROM system.tables "
            "WHERE database = currentDatabase() AND name IN {names:Array(String)}",
            parameters={"names": list(TABLES)},
        ).result_rows
        found = {str(name): int(count or 0) for name, count in rows}
        return {table: found.get(table, 0) for table in TABLES}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.bulk.close()
        self.client.close()
        if self.path is not None:
            embedded_lock.release(self.path)
