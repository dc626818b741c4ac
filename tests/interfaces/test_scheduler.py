"""The scheduler on a real desk: cron timing, no overlapping runs, state across restarts,
a report and an audit row per run, and clear errors for a bad schedule file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.scheduler import Schedule, ScheduleError, Scheduler, load_schedule
from tests.interfaces.conftest import auth, desk_settings

START = datetime(2026, 11, 25, 10, 7, tzinfo=UTC)
SCHEDULE = Schedule.model_validate(
    {
        "job": [
            {"name": "risk-review", "cron": "0 * * * *", "requests": ["what is our risk?"]},
            {"name": "health", "cron": "*/15 * * * *", "requests": ["health", "report"]},
        ]
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def audit_rows(host: DeskHost, kind: str) -> list[str]:
    rows = host.session.store.client.query(
        "SELECT payload FROM audit_log WHERE kind = {k:String} ORDER BY ts", parameters={"k": kind}
    ).result_rows
    return [str(r[0]) for r in rows]


def test_jobs_run_when_their_cron_says_and_leave_a_report_and_audit(host: DeskHost, tmp_path: Path):
    clock = Clock()
    scheduler = Scheduler(host, SCHEDULE, tmp_path / "s.sqlite", clock)
    try:
        assert scheduler.tick() == []
        status = {j["name"]: j for j in scheduler.status()}
        assert status["risk-review"]["next_run"] == "2026-11-25T11:00:00+00:00"
        assert status["health"]["next_run"] == "2026-11-25T10:15:00+00:00"
        clock.now = START.replace(minute=16)
        assert scheduler.tick() == ["health"]
        scheduler.wait_idle()
        [run] = scheduler.runs("health")
        assert run["outcome"] == "ok"
        report = Path(run["report"]).read_text()
        assert "## health" in report
        assert "## report" in report
        assert "trace: pm -> monitor" in report
        assert {j["name"]: j for j in scheduler.status()}["health"]["next_run"] == (
            "2026-11-25T10:30:00+00:00"
        )
        [audit] = audit_rows(host, "scheduler.run")
        assert '"job":"health"' in audit.replace(" ", "")
    finally:
        scheduler.close()


def test_a_job_never_overlaps_its_own_run(host: DeskHost, tmp_path: Path):
    clock = Clock()
    scheduler = Scheduler(host, SCHEDULE, tmp_path / "s.sqlite", clock)
    try:
        with host.lock:  # the desk is busy: the first run waits inside its request
            assert scheduler.start("health")
            assert not scheduler.start("health")
            clock.now = START.replace(minute=31)
            assert "health" not in scheduler.tick()
            assert {j["name"]: j for j in scheduler.status()}["health"]["running"]
        scheduler.wait_idle()
        outcomes = [r["outcome"] for r in scheduler.runs("health")]
        assert outcomes.count("ok") == 1
        assert outcomes.count("skipped: the previous run is still running") == 2
        assert len(audit_rows(host, "scheduler.skipped")) == 2
    finally:
        scheduler.close()


def test_state_survives_a_restart_and_a_cut_short_run_is_recorded(host: DeskHost, tmp_path: Path):
    state = tmp_path / "s.sqlite"
    clock = Clock()
    first = Scheduler(host, SCHEDULE, state, clock)
    clock.now = START.replace(minute=20)
    first.tick()
    first.close()
    # A process killed mid-run leaves its run marked running.
    with sqlite3.connect(state) as db:
        db.execute("UPDATE jobs SET running = 1 WHERE name = 'risk-review'")
        db.execute(
            "INSERT INTO runs (job, started, outcome) VALUES ('risk-review', ?, 'running')",
            (START.isoformat(),),
        )
    clock.now = START + timedelta(hours=5)  # down for hours: the missed hourly runs collapse
    second = Scheduler(host, SCHEDULE, state, clock)
    try:
        status = {j["name"]: j for j in second.status()}
        assert status["health"]["last_outcome"] == "ok"
        assert status["health"]["next_run"] == "2026-11-25T10:30:00+00:00"
        assert status["risk-review"]["last_outcome"] == "interrupted"
        assert not status["risk-review"]["running"]
        assert second.tick() == ["risk-review", "health"]
        second.wait_idle()
        assert [r["outcome"] for r in second.runs("risk-review")] == ["interrupted", "ok"]
        assert {j["name"]: j for j in second.status()}["risk-review"]["next_run"] == (
            "2026-11-25T16:00:00+00:00"
        )
    finally:
        second.close()


def test_the_api_lists_and_starts_jobs(host: DeskHost, tmp_path: Path):
    scheduler = Scheduler(host, SCHEDULE, tmp_path / "s.sqlite", Clock())
    try:
        with TestClient(create_app(desk_settings(tmp_path), host, scheduler)) as client:
            listed = client.get("/v1/schedule", headers=auth("viewer")).json()
            assert [j["name"] for j in listed] == ["risk-review", "health"]
            with host.lock:
                started = client.post("/v1/schedule/health/run", headers=auth("admin"))
                assert started.status_code == 200
                again = client.post("/v1/schedule/health/run", headers=auth("admin"))
                assert again.status_code == 409
            assert client.post("/v1/schedule/nope/run", headers=auth("admin")).status_code == 404
        scheduler.wait_idle()
    finally:
        scheduler.close()


def test_the_packaged_schedule_loads():
    jobs = {j.name: j for j in load_schedule(None).job}
    assert set(jobs) == {"ingest", "risk-review", "nightly-cycle"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[job]]\nname = "x"\ncron = "every day"\nrequests = ["health"]', "not a cron"),
        ('[[job]]\nname = "x"\ncron = "* * * * *"\nrequests = []', "job.0.requests"),
        ('[[job]]\nname = "x"\ncron = "* * * * *"\nrequests = ["a"]\n' * 2, "unique"),
        ('[[job]]\nname = "x"\ncron = "* * * * *"\nrequests = ["a"]\nshell = "rm"', "shell"),
        ("[[job]\n", "not TOML"),
    ],
)
def test_a_bad_schedule_file_is_a_clear_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "schedule.toml"
    path.write_text(text)
    with pytest.raises(ScheduleError, match=message) as raised:
        load_schedule(path)
    assert str(path) in str(raised.value)
    with pytest.raises(ScheduleError, match="no such schedule file"):
        load_schedule(tmp_path / "missing.toml")
