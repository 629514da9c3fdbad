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
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from contracts.errors import LoadError

_JOB_KEYS = frozenset(
    {"name", "at", "every_minutes", "tz", "business_units", "contract", "milestone", "pre", "post", "force"}
)


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


def load_jobs(file: Path, default_tz: str = "UTC") -> list[JobSpec]:
    try:
        data = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LoadError(str(file), f"cannot be read as YAML: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("jobs"), list) or not data["jobs"]:
        raise LoadError(str(file), "needs a non-empty list 'jobs'")
    tz_name = str(data.get("tz", default_tz))
    parse_zone(tz_name, f"{file}: tz")
    specs = [_job(entry, f"{file}: jobs[{i}]", tz_name) for i, entry in enumerate(data["jobs"])]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LoadError(f"{file}: jobs", f"job names must be unique, repeated: {', '.join(duplicates)}")
    return specs


def _job(entry: Any, path: str, tz_name: str) -> JobSpec:
    if not isinstance(entry, Mapping):
        raise LoadError(path, "a job is a mapping of name, at/every_minutes and run options")
    unknown = sorted(set(entry) - _JOB_KEYS)
    if unknown:
        raise LoadError(f"{path}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(_JOB_KEYS))})")
    if "name" not in entry:
        raise LoadError(f"{path}.name", "every job needs a name")
    if ("at" in entry) == ("every_minutes" in entry):
        raise LoadError(path, "give exactly one of 'at' (HH:MM) and 'every_minutes'")
    every = entry.get("every_minutes")
    if every is not None and (not isinstance(every, int) or every < 1):
        raise LoadError(f"{path}.every_minutes", "must be a whole number of minutes, 1 or more")
    bus = entry.get("business_units", [])
    if not isinstance(bus, list):
        raise LoadError(f"{path}.business_units", "must be a list of business units")
    return JobSpec(
        name=str(entry["name"]),
        tz=parse_zone(str(entry.get("tz", tz_name)), f"{path}.tz"),
        at=parse_time(str(entry["at"]), f"{path}.at") if "at" in entry else None,
        every_minutes=every,
        business_units=tuple(str(b).upper() for b in bus),
        contract=entry.get("contract"),
        milestone=entry.get("milestone"),
        pre=_commands(entry.get("pre", []), f"{path}.pre"),
        post=_commands(entry.get("post", []), f"{path}.post"),
        force=bool(entry.get("force", False)),
    )


def _commands(raw: Any, path: str) -> tuple[tuple[str, ...], ...]:
    """Commands are argv lists, or strings split like a shell would (never run through a shell)."""
    if not isinstance(raw, list):
        raise LoadError(path, "must be a list of commands")
    out = []
    for i, cmd in enumerate(raw):
        argv = (
            shlex.split(cmd)
            if isinstance(cmd, str)
            else [str(a) for a in cmd]
            if isinstance(cmd, list)
            else []
        )
        if not argv:
            raise LoadError(f"{path}[{i}]", "a command is a non-empty string or list of arguments")
        out.append(tuple(argv))
    return tuple(out)
