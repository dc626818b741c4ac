"""schemathesis against the OpenAPI spec the app serves: generated requests to every
operation of the real app under uvicorn on loopback, with an admin key (so the handlers run,
not only the key check), never get a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from core.settings import Settings
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.scheduler import Schedule, Scheduler
from interfaces.server import serve_in_background
from tests.interfaces.conftest import auth, desk_settings

# The spec does not depend on the desk behind the app, so it is read once, at collection.
SPEC = create_app(Settings(), cast(DeskHost, None)).openapi()
# The change stream never ends by design (a client reads it until it leaves), and a
# generated request reads a body to its end: test_cockpit_api.py tests it over real HTTP.
schema = schemathesis.openapi.from_dict(SPEC).exclude(path="/v1/events")


@pytest.fixture(scope="module")
def base_url(
    tmp_path_factory: pytest.TempPathFactory,
    bitstamp_btc_raw,
    goog_raw,
) -> Iterator[str]:
    from core.models.market import SessionCalendar
    from core.store import Store
    from graph.session import DeskSession
    from tools.ingest.pipeline import ingest_bars

    tmp_path: Path = tmp_path_factory.mktemp("schema")
    settings_ = desk_settings(tmp_path, api_rate_per_minute=1_000_000)
    with Store.open(settings_) as store:
        ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
        ingest_bars(store, goog_raw, source="goog", calendar=SessionCalendar.WEEKDAYS)
        with DeskSession(settings_, store) as session:
            host = DeskHost(session)
            jobs = Schedule.model_validate(
                {"job": [{"name": "health", "cron": "0 0 * * *", "requests": ["health"]}]}
            )
            scheduler = Scheduler(host, jobs, tmp_path / "s.sqlite")
            try:
                with serve_in_background(create_app(settings_, host, scheduler)) as url:
                    yield url
            finally:
                scheduler.close()


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_5xx(case: schemathesis.Case, base_url: str):
    case.call_and_validate(base_url=base_url, headers=auth("admin"), checks=[not_a_server_error])
