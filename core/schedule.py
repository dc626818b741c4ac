"""The schedule file: jobs with a cron expression and the desk requests each run makes. The
scheduler (interfaces/scheduler) runs it; the evals read a scenario's scheduled objective
from it, so it lives in the kernel both can import.

[[job]]
name = "risk-review"
cron = "0 * * * *"
requests = ["what is our risk?"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

DEFAULT_SCHEDULE = Path(__file__).with_name("default_schedule.toml")


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    cron: str
    requests: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        min_length=1
    )

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    job: list[Job] = Field(default_factory=list)

    @field_validator("job")
    @classmethod
    def _names_are_unique(cls, jobs: list[Job]) -> list[Job]:
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError("job names must be unique")
        return jobs


class ScheduleError(ValueError):
    """The schedule file is missing or malformed; the message names the file and the field."""


def load_schedule(path: Path | None) -> Schedule:
    source = path or DEFAULT_SCHEDULE
    try:
        return Schedule.model_validate(tomllib.loads(source.read_text()))
    except FileNotFoundError:
        raise ScheduleError(f"{source}: no such schedule file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{source}: not TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ScheduleError(f"{source}: {problems}") from None
