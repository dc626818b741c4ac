"""Scheduled autonomous runs: the runner, and the schedule file (core/schedule.py)."""

from core.schedule import Job, Schedule, ScheduleError, load_schedule
from interfaces.scheduler.runner import Scheduler

__all__ = ["Job", "Schedule", "ScheduleError", "Scheduler", "load_schedule"]
