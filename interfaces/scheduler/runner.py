"""Runs the schedule: each job when its cron says, never two runs of one job at once, state
in SQLite so a restart picks up where it stopped (a run the restart cut short is recorded as
interrupted; runs missed while down collapse into one). Every run writes its report and an
audit row."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from croniter import croniter

from core.schedule import Job, Schedule
from interfaces.desk_host import DeskHost

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY, next_run TEXT, last_run TEXT, last_outcome TEXT,
    running INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    job TEXT NOT NULL, started TEXT NOT NULL, finished TEXT, outcome TEXT NOT NULL,
    report TEXT
);
"""


def _now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(
        self,
        host: DeskHost,
        schedule: Schedule,
        state_path: Path,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.host = host
        self.jobs = {j.name: j for j in schedule.job}
        self.clock = clock
        self.reports = host.session.settings.data_dir / "runs"
        self._db = sqlite3.connect(state_path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._db_lock = threading.Lock()
        self._running: dict[str, threading.Lock] = {n: threading.Lock() for n in self.jobs}
        self._workers: list[threading.Thread] = []
        self._skipped: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._loop: threading.Thread | None = None
        self._recover()

    def _sql(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._db_lock:
            return list(self._db.execute(sql, args))

    def _recover(self) -> None:
        now = self.clock()
        for name in self.jobs:
            row = self._sql("SELECT running FROM jobs WHERE name = ?", name)
            if not row:
                first = croniter(self.jobs[name].cron, now).get_next(datetime)
                self._sql(
                    "INSERT INTO jobs (name, next_run) VALUES (?, ?)", name, first.isoformat()
                )
            elif row[0][0]:
                self._sql(
                    "UPDATE jobs SET running = 0, last_outcome = 'interrupted' WHERE name = ?",
                    name,
                )
                self._sql(
                    "UPDATE runs SET outcome = 'interrupted', finished = ? "
                    "WHERE job = ? AND outcome = 'running'",
                    now.isoformat(), name,
                )  # fmt: skip

    def status(self) -> list[dict[str, Any]]:
        rows = self._sql("SELECT name, next_run, last_run, last_outcome, running FROM jobs")
        known = {r[0]: r for r in rows}
        return [
            {
                "name": name,
                "cron": job.cron,
                "request": " / ".join(job.requests),
                "next_run": known[name][1],
                "last_run": known[name][2],
                "last_outcome": known[name][3],
                "running": bool(known[name][4]),
            }
            for name, job in self.jobs.items()
        ]

    def runs(self, job: str) -> list[dict[str, Any]]:
        rows = self._sql(
            "SELECT started, finished, outcome, report FROM runs WHERE job = ? ORDER BY started",
            job,
        )
        return [
            dict(zip(("started", "finished", "outcome", "report"), r, strict=True)) for r in rows
        ]

    def tick(self) -> list[str]:
        """Start every job that is due; returns the names started."""
        now = self.clock()
        started = []
        for name, job in self.jobs.items():
            [(due,)] = self._sql("SELECT next_run FROM jobs WHERE name = ?", name)
            if due is None or datetime.fromisoformat(due) > now:
                continue
            nxt = croniter(job.cron, now).get_next(datetime)
            self._sql("UPDATE jobs SET next_run = ? WHERE name = ?", nxt.isoformat(), name)
            if self.start(name):
                started.append(name)
        return started

    def start(self, name: str) -> bool:
        """Start a run of `name` now unless one is still running (then the skip is recorded)."""
        job = self.jobs[name]
        if not self._running[name].acquire(blocking=False):
            at = self.clock().isoformat()
            self._sql(
                "INSERT INTO runs (job, started, finished, outcome) VALUES (?, ?, ?, ?)",
                name, at, at, "skipped: the previous run is still running",
            )  # fmt: skip
            # Written to the audit log when the running one ends: waiting for the desk here
            # would block the caller behind the very run that caused the skip.
            with self._db_lock:
                self._skipped.setdefault(name, []).append(at)
            return False
        self._sql("UPDATE jobs SET running = 1 WHERE name = ?", name)
        worker = threading.Thread(target=self._run, args=(job,), name=f"job-{name}", daemon=True)
        self._workers.append(worker)
        worker.start()
        return True

    def _run(self, job: Job) -> None:
        try:
            self._run_requests(job)
        finally:
            self._running[job.name].release()

    def _run_requests(self, job: Job) -> None:
        started = self.clock()
        stamp = started.strftime("%Y%m%dT%H%M%S%f")
        self._sql(
            "INSERT INTO runs (job, started, outcome) VALUES (?, ?, 'running')",
            job.name, started.isoformat(),
        )  # fmt: skip
        lines = [f"# Scheduled run: {job.name}", "", f"started {started.isoformat()}", ""]
        outcome = "ok"
        try:
            for i, request in enumerate(job.requests):
                turn = self.host.ask(request, f"sched-{job.name}-{stamp}-{i}")
                lines += [f"## {request}", "", f"trace: {' -> '.join(turn.trace)}", ""]
                lines += [f"- {answer}" for answer in turn.answers]
                if turn.pending is not None:
                    lines.append(f"- waiting for approval on thread {turn.thread_id}")
                    outcome = "ok, approval pending"
                lines.append("")
        except Exception as exc:  # a failed run is recorded; the scheduler keeps going
            log.exception("scheduled job %s failed", job.name)
            outcome = f"failed: {type(exc).__name__}: {exc}"
            lines += ["", f"**failed:** {type(exc).__name__}: {exc}"]
        finished = self.clock()
        folder = self.reports / job.name
        folder.mkdir(parents=True, exist_ok=True)
        report = folder / f"{stamp}.md"
        report.write_text("\n".join([*lines, f"finished {finished.isoformat()}: {outcome}", ""]))
        self._sql(
            "UPDATE runs SET finished = ?, outcome = ?, report = ? "
            "WHERE job = ? AND started = ? AND outcome = 'running'",
            finished.isoformat(), outcome, str(report), job.name, started.isoformat(),
        )  # fmt: skip
        self._sql(
            "UPDATE jobs SET running = 0, last_run = ?, last_outcome = ? WHERE name = ?",
            started.isoformat(), outcome, job.name,
        )  # fmt: skip
        self.host.record(
            "scheduler.run",
            {"job": job.name, "started": started.isoformat(), "outcome": outcome,
             "report": str(report), "requests": json.dumps(job.requests)},
            actor="scheduler",
        )  # fmt: skip
        with self._db_lock:
            skipped = self._skipped.pop(job.name, [])
        for at in skipped:
            self.host.record("scheduler.skipped", {"job": job.name, "at": at}, actor="scheduler")

    def wait_idle(self, timeout: float = 60.0) -> None:
        for worker in list(self._workers):
            worker.join(timeout)

    def run_forever(self, poll_s: float = 1.0) -> None:
        while not self._stop.wait(poll_s):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def start_loop(self, poll_s: float = 1.0) -> None:
        self._loop = threading.Thread(
            target=self.run_forever, args=(poll_s,), name="scheduler", daemon=True
        )
        self._loop.start()

    def close(self) -> None:
        self._stop.set()
        if self._loop is not None:
            self._loop.join(5)
        self.wait_idle(120)
        self._db.close()
