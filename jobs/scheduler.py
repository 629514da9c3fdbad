"""The scheduler: jobs at their times until stopped (SIGINT/SIGTERM), small enough to trust.

- Nightly times are computed in the job's time zone by :func:`jobs.timing.next_fire` (see there for why);
  every time here is an aware UTC instant, never the naive local clock.
- A job that raises is logged and the loop goes on: one bad night must not stop the next.
- Stopping (SIGINT/SIGTERM) sets an event; the job in flight is asked to stop after its chunk and the loop exits.

This used to be the ``schedule`` package, driven through its private ``_schedule_next_run``; the part we
need (due jobs, the wait until the next one) is the few lines below, with no private API to break.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from jobs.config import JobSpec
from jobs.runner import run_job
from jobs.signals import stop_on_signals
from jobs.timing import next_fire
from ms_prcs.settings import Settings

log = logging.getLogger("ms_prcs.jobs")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Job:
    """One scheduled action: ``following`` gives the next run after an instant."""

    name: str
    action: Callable[[], object]
    following: Callable[[dt.datetime], dt.datetime]
    next_run: dt.datetime = field(init=False)

    def __post_init__(self) -> None:
        self.next_run = self.following(_now())

    def run(self) -> None:
        """Run now (logged if it raises), then schedule the next run after the time it finished."""
        try:
            self.action()
        except Exception:
            log.exception("job %s failed; the scheduler goes on", self.name)
        self.next_run = self.following(_now())

    def __repr__(self) -> str:
        return f"Job({self.name!r}, next_run={self.next_run.isoformat()})"


@dataclass
class Scheduler:
    jobs: list[Job] = field(default_factory=list)

    def run_pending(self) -> None:
        """Run every due job, earliest first."""
        now = _now()
        for job in sorted((j for j in self.jobs if j.next_run <= now), key=lambda j: j.next_run):
            job.run()

    @property
    def idle_seconds(self) -> float | None:
        """Seconds until the next job is due (``None`` with no jobs)."""
        if not self.jobs:
            return None
        return (min(j.next_run for j in self.jobs) - _now()).total_seconds()


def add_nightly(
    scheduler: Scheduler, at: dt.time, tz: ZoneInfo, name: str, action: Callable[[], object]
) -> Job:
    """A daily job at a wall-clock time in a time zone, fired exactly once per local night across DST."""
    job = Job(name, action, lambda after: next_fire(after, at, tz))
    scheduler.jobs.append(job)
    return job


def add_every(scheduler: Scheduler, minutes: int, name: str, action: Callable[[], object]) -> Job:
    """A job every ``minutes`` minutes, counted from the end of the previous run."""
    job = Job(name, action, lambda after: after + dt.timedelta(minutes=minutes))
    scheduler.jobs.append(job)
    return job


def serve(scheduler: Scheduler, stop: threading.Event, max_sleep_s: float = 30.0) -> None:
    """Run due jobs until ``stop`` is set. Sleeps until the next job (at most ``max_sleep_s``) on the event,
    so a signal ends the wait at once."""
    while not stop.is_set():
        scheduler.run_pending()
        idle = scheduler.idle_seconds
        wait = max_sleep_s if idle is None else min(max(idle, 0.0), max_sleep_s)
        stop.wait(wait if wait > 0 else 0.05)


def build(specs: Iterable[JobSpec], settings: Settings, should_stop: Callable[[], bool]) -> Scheduler:
    """A scheduler holding ``specs``, each running the engine through :func:`jobs.runner.run_job`."""
    scheduler = Scheduler()
    for spec in specs:

        def action(spec: JobSpec = spec) -> None:
            run_job(spec, settings, should_stop)

        if spec.at is not None:
            add_nightly(scheduler, spec.at, spec.tz, spec.name, action)
        else:
            assert spec.every_minutes is not None  # JobSpec holds exactly one of them
            add_every(scheduler, spec.every_minutes, spec.name, action)
    return scheduler


def run_schedule(
    specs: list[JobSpec],
    settings: Settings,
    *,
    run_now: bool = False,
    announce: Callable[[str], None] = log.info,
) -> None:
    """``ms-prcs schedule``: run ``specs`` at their times until SIGINT or SIGTERM; with ``run_now`` every
    job also runs once at the start."""
    with stop_on_signals() as stop:
        scheduler = build(specs, settings, stop.is_set)
        for spec in specs:
            announce(f"scheduled {spec.describe()}")
        if run_now:
            for job in list(scheduler.jobs):
                if not stop.is_set():
                    job.run()
        serve(scheduler, stop)
