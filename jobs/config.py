"""Scheduled jobs as data: ``ms-prcs schedule --config FILE`` reads several, each a run control and a time.

```yaml
tz: America/New_York          # default zone for every job
jobs:
  - name: nightly-us
    at: "02:30"               # or every_minutes: 30
    business_units: [US001, US002]
    pre:  ["./export-timesheets.sh"]
    post: ["billing-cli run --bu US001"]   # PeopleSoft's order: milestones before billing and revenue
```

The file is described by pydantic models (:class:`JobFile`, :class:`JobEntry`) with the load file's field
types (:mod:`ms_prcs.inputs`), so the two agree: unknown keys and keys given twice are refused, ``force``
is a real boolean (``"false"`` is an error, not true), keys are parsed and lengths checked.
``ms-prcs schedule --schema`` prints the JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, model_validator

from contracts.errors import InvalidInput, LoadError
from contracts.limits import column_length
from contracts.models import BusinessUnit, ProcessRun
from ms_prcs.inputs import (
    CONTRACT_KEY,
    FLAG,
    MILESTONE_KEY,
    Entry,
    Key,
    Name,
    Rule,
    Whole,
    fail,
    first_problem,
    kind,
)
from ms_prcs.load.reading import read_yaml

JOB_NAME = column_length(ProcessRun.job_name)
MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class JobSpec:
    name: str
    tz: ZoneInfo
    at: dt.time | None = None
    every_minutes: int | None = None
    business_units: tuple[str, ...] = ()
    contract: str | None = None
    milestone: str | None = None
    pre: tuple[tuple[str, ...], ...] = ()
    post: tuple[tuple[str, ...], ...] = ()
    force: bool = False

    def describe(self) -> str:
        when = (
            f"every {self.every_minutes} min" if self.every_minutes else f"at {self.at:%H:%M} {self.tz.key}"
        )
        scope = ", ".join(self.business_units) or self.contract or self.milestone or "all business units"
        return f"{self.name}: {when}, {scope}"


def parse_time(text: str, path: str) -> dt.time:
    try:
        hour, minute = text.strip().split(":")
        return dt.time(int(hour), int(minute))
    except ValueError as exc:
        raise LoadError(path, f"{text!r} is not a time of the form HH:MM") from exc


def parse_zone(name: str, path: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LoadError(path, f"{name!r} is not a known time zone") from exc


def _time(value: Any) -> str:
    if not isinstance(value, str):
        fail(f"expected a time of the form HH:MM, got {kind(value)}")
    try:
        parse_time(value, "at")
    except LoadError as exc:
        fail(exc.problem)
    return value.strip()


def _zone(value: Any) -> str:
    if not isinstance(value, str):
        fail(f"expected a time zone name (e.g. Europe/Berlin), got {kind(value)}")
    try:
        parse_zone(value, "tz")
    except LoadError as exc:
        fail(exc.problem)
    return value


def _command(value: Any) -> tuple[str, ...]:
    """A command is an argv list, or a string split like a shell would (never run through a shell)."""
    argv: list[str] = []
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            fail(f"cannot be split into arguments: {exc}")
    elif isinstance(value, list) and all(isinstance(a, str | int | float) for a in value):
        argv = [str(a) for a in value]
    if not argv:
        fail("a command is a non-empty string or list of arguments")
    return tuple(argv)


TIME = Rule(_time, {"type": "string", "pattern": r"^\s*[0-9]{1,2}:[0-9]{2}\s*$"})
ZONE = Rule(_zone, {"type": "string", "description": "an IANA time zone, e.g. Europe/Berlin"})
COMMAND = Rule(
    _command, {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string"}}]}
)


class JobEntry(Entry):
    """One job: a name, exactly one of ``at`` and ``every_minutes``, and the run's options."""

    name: Annotated[str, Key(JOB_NAME)]
    at: Annotated[str, TIME] | None = None
    every_minutes: Annotated[int, Whole(1, MINUTES_PER_WEEK)] | None = None
    tz: Annotated[str, ZONE] | None = None
    business_units: list[Annotated[str, Name(column_length(BusinessUnit.business_unit))]] = []
    contract: Annotated[str, CONTRACT_KEY] | None = None
    milestone: Annotated[str, MILESTONE_KEY] | None = None
    pre: list[Annotated[tuple[str, ...], COMMAND]] = []
    post: list[Annotated[tuple[str, ...], COMMAND]] = []
    force: Annotated[bool, FLAG] = False

    @model_validator(mode="after")
    def _one_time(self) -> JobEntry:
        if (self.at is None) == (self.every_minutes is None):
            fail("give exactly one of 'at' (HH:MM) and 'every_minutes'")
        return self


class JobFile(Entry):
    """A job file: a default time zone and a non-empty list of jobs with unique names."""

    tz: Annotated[str, ZONE] | None = None
    jobs: list[JobEntry]

    @model_validator(mode="after")
    def _unique(self) -> JobFile:
        if not self.jobs:
            fail("needs a non-empty list 'jobs'", "jobs")
        names = [job.name for job in self.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            fail(f"job names must be unique, repeated: {', '.join(duplicates)}", "jobs")
        return self


def job_schema() -> dict[str, Any]:
    """The JSON Schema of a job file (``ms-prcs schedule --schema``)."""
    schema = JobFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ms-prcs job file"
    return schema


def schema_text() -> str:
    return json.dumps(job_schema(), indent=2)


def load_jobs(file: Path, default_tz: str = "UTC") -> list[JobSpec]:
    """The jobs of ``file``, validated whole; errors name the file and the path (``jobs[1].force``)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(str(file), f"cannot be read: {exc}") from exc
    try:
        data = read_yaml(text)
    except InvalidInput as exc:
        raise LoadError(str(file), f"cannot be read as YAML: {exc}") from exc
    try:
        parsed = JobFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        path, problem = first_problem(exc)
        raise LoadError(f"{file}: {path}", problem) from None
    tz_name = parsed.tz or default_tz
    parse_zone(tz_name, f"{file}: tz")
    return [_spec(job, tz_name) for job in parsed.jobs]


def _spec(job: JobEntry, tz_name: str) -> JobSpec:
    return JobSpec(
        name=job.name,
        tz=ZoneInfo(job.tz or tz_name),
        at=parse_time(job.at, "at") if job.at is not None else None,
        every_minutes=job.every_minutes,
        business_units=tuple(bu.upper() for bu in job.business_units),
        contract=job.contract,
        milestone=job.milestone,
        pre=tuple(job.pre),
        post=tuple(job.post),
        force=job.force,
    )


def job_from_options(
    name: str,
    tz: str,
    at: str | None,
    every_minutes: int | None,
    business_units: tuple[str, ...],
    contract: str | None,
    milestone: str | None,
    pre: tuple[str, ...],
    post: tuple[str, ...],
    force: bool,
) -> JobSpec:
    """One job from ``ms-prcs schedule``'s options, checked by the same model as a job file's entries."""
    if (at is None) == (every_minutes is None):
        raise InvalidInput("give exactly one of --at HH:MM and --every-minutes N (or --config FILE)")
    if at is not None:
        parse_time(at, "--at")
    parse_zone(tz, "--tz")
    options: dict[str, Any] = {
        "name": name,
        "at": at,
        "every_minutes": every_minutes,
        "tz": tz,
        "business_units": list(business_units),
        "contract": contract,
        "milestone": milestone,
        "pre": list(pre),
        "post": list(post),
        "force": force,
    }
    try:
        job = JobEntry.model_validate(options)
    except ValidationError as exc:
        path, problem = first_problem(exc)
        raise InvalidInput(f"--{path.replace('_', '-')}: {problem}") from None
    return _spec(job, tz)
