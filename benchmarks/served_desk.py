"""A desk for the HTTP benchmarks: real crypto and GOOG bars in an embedded store, one admin
key, no rate limit, behind the app on a free loopback port."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import Settings
from core.store import Store
from evals.harness import prepare_store
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.server import serve_in_background


@contextmanager
def desk_host(key: str) -> Iterator[DeskHost]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store_path = prepare_store(root)
        settings = Settings(data_dir=root / "desk", api_keys=f"bench:admin:{key}",
                            api_rate_per_minute=1_000_000, log_json=False)  # fmt: skip
        with (
            Store(f"chdb://{store_path}") as store,
            DeskSession(settings, store) as session,
        ):
            yield DeskHost(session)


@contextmanager
def served(host: DeskHost) -> Iterator[str]:
    """The desk's app on a free loopback port; yields its base URL."""
    with serve_in_background(create_app(host.session.desk.settings, host)) as url:
        yield url
