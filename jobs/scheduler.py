"""The scheduler loop: ``schedule`` keeps the jobs and runs what is due; this module makes it safe to trust.

- Nightly times are computed in the job's time zone by :func:`jobs.timing.next_fire` (see there for why).
- A job that raises is logged and the loop goes on: one bad night must not stop the next.
- Stopping (SIGINT/SIGTERM) sets an event; the job in flight is asked to stop after its chunk and the loop exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

import schedule

from jobs.timing import next_fire

log = logging.getLogger("ms_prcs.jobs")


class NightlyJob(schedule.Job):
    """A daily job at a wall-clock time in a time zone, fired exactly once per local night across DST changes."""

    def __init__(self, scheduler: schedule.Scheduler, at: dt.time, tz: ZoneInfo) -> None:
        super().__init__(1, scheduler)
        self.unit = "days"
        self.fire_at = at
        self.fire_tz = tz

    def _schedule_next_run(self) -> None:
        # schedule compares next_run with the naive local ``datetime.now()``, so hand it local naive time.
        now = dt.datetime.now(dt.UTC)
        self.next_run = next_fire(now, self.fire_at, self.fire_tz).astimezone().replace(tzinfo=None)

    def __repr__(self) -> str:
        return f"NightlyJob(at={self.fire_at:%H:%M} {self.fire_tz.key}, next_run={self.next_run})"


def add_nightly(
    scheduler: schedule.Scheduler, at: dt.time, tz: ZoneInfo, name: str, action: Callable[[], object]
) -> schedule.Job:
    job = NightlyJob(scheduler, at, tz)
    job.tag(name)
    job.do(_guarded(name, action))
    return job


def add_every(
    scheduler: schedule.Scheduler, minutes: int, name: str, action: Callable[[], object]
) -> schedule.Job:
    job: schedule.Job = scheduler.every(minutes).minutes.tag(name)
    job.do(_guarded(name, action))
    return job


def _guarded(name: str, action: Callable[[], object]) -> Callable[[], None]:
    """``schedule`` lets an exception escape run_pending and end the loop; log it and keep the schedule."""

    def run() -> None:
        try:
            action()
        except Exception:
            log.exception("job %s failed; the scheduler goes on", name)

    return run


def serve(
    scheduler: schedule.Scheduler,
    stop: threading.Event,
    max_sleep_s: float = 30.0,
) -> None:
    """Run due jobs until ``stop`` is set. Sleeps until the next job (at most ``max_sleep_s``) on the event,
    so a signal ends the wait at once."""
    while not stop.is_set():
        scheduler.run_pending()
        idle = scheduler.idle_seconds
        wait = max_sleep_s if idle is None else min(max(idle, 0.0), max_sleep_s)
        stop.wait(wait if wait > 0 else 0.05)
