"""Scheduled autonomous runs: the schedule file and the runner."""

from interfaces.scheduler.runner import Scheduler
from interfaces.scheduler.schedule import Job, Schedule, ScheduleError, load_schedule

__all__ = ["Job", "Schedule", "ScheduleError", "Scheduler", "load_schedule"]
