"""The scheduler loop with the clock moved through real nights (time-machine patches the clock itself)."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jobs.scheduler import Scheduler, add_every, add_nightly, serve
from tests.jobs.helpers import walk

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC),
            ["03-28 02:30", "03-29 03:30", "03-30 02:30", "03-31 02:30"],
        ),
        (
            dt.datetime(2026, 10, 23, 12, 0, tzinfo=dt.UTC),
            ["10-24 02:30", "10-25 02:30", "10-26 02:30", "10-27 02:30"],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_nightly_job_fires_exactly_once_per_night_across_dst(
    start: dt.datetime, expected: list[str]
) -> None:
    fired: list[str] = []
    scheduler = Scheduler()
    with time_machine.travel(start, tick=False):
        add_nightly(
            scheduler,
            dt.time(2, 30),
            BERLIN,
            "nightly",
            lambda: fired.append(f"{dt.datetime.now(BERLIN):%m-%d %H:%M}"),
        )
    walk(start, 4, scheduler)
    assert fired == expected


def test_a_job_that_raises_does_not_stop_later_jobs_or_later_nights() -> None:
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    good: list[int] = []
    scheduler = Scheduler()

    def bad() -> None:
        raise RuntimeError("billing system down")

    with time_machine.travel(start, tick=False):
        add_nightly(scheduler, dt.time(1, 0), BERLIN, "bad", bad)
        add_nightly(scheduler, dt.time(1, 5), BERLIN, "good", lambda: good.append(1))
    walk(start, 3, scheduler, step_minutes=5)
    assert len(good) == 3
    assert all(job.next_run is not None for job in scheduler.jobs)


def test_every_minutes_jobs_repeat() -> None:
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    count: list[int] = []
    scheduler = Scheduler()
    with time_machine.travel(start, tick=False):
        add_every(scheduler, 15, "often", lambda: count.append(1))
    walk(start, 1, scheduler)
    assert len(count) == 24 * 4


def test_serve_returns_promptly_when_stopped() -> None:
    scheduler = Scheduler()
    add_nightly(scheduler, dt.time(3, 0), BERLIN, "nightly", lambda: None)
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(scheduler, stop))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
