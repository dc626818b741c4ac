"""Versioned schema migrations: numbered SQL files, applied once each, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

from clickhouse_connect.driver.client import Client

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     UInt32,
    name        String,
    applied_at  DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str = field(repr=False)

    def statements(self) -> list[str]:
        """The file's statements; comments stripped, split on `;`."""
        without_comments = "\n".join(
            line for line in self.sql.splitlines() if not line.lstrip().startswith("--")
        )
        return [s.strip() for s in without_comments.split(";") if s.strip()]


def available_migrations() -> list[Migration]:
    """Every migration shipped in `core/store/schema`, ordered by version."""
    found: list[Migration] = []
    for entry in resources.files("core.store.schema").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions in core/store/schema: {versions}")
    return found


def applied_versions(client: Client) -> set[int]:
    client.command(_LEDGER_DDL)
    return {
        int(row[0]) for row in client.query("SELECT version FROM schema_migrations").result_rows
    }


def migrate(client: Client) -> list[Migration]:
    """Apply what is missing; returns the migrations applied now."""
    done = applied_versions(client)
    applied: list[Migration] = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        for statement in migration.statements():
            client.command(statement)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name]],
            column_names=["version", "name"],
        )
        applied.append(migration)
    return applied
