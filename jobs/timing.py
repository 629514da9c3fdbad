"""When a nightly job fires next, in its own time zone, correct across daylight-saving changes.

Pure: the instant is a parameter. ``schedule`` 1.2.2 gets this wrong after a spring-forward night (a 02:30
Europe/Berlin job then fires at 01:30 and again at 02:30 the next day), so the scheduler asks this instead.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def next_fire(after: dt.datetime, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The first instant strictly after ``after`` whose local time in ``tz`` is ``at``, once per local date.

    A wall time that does not exist that night (skipped by spring-forward) fires at the same offset from
    midnight as the day before would (02:30 becomes 03:30 summer time); a wall time that happens twice
    (fall-back) fires at its first occurrence only. Either way: exactly one run per night, none skipped.
    """
    if after.tzinfo is None:
        raise ValueError("next_fire needs an aware datetime")
    local_date = after.astimezone(tz).date()
    while True:
        candidate = _resolve(dt.datetime.combine(local_date, at, tzinfo=tz))
        if candidate > after:
            return candidate
        local_date += dt.timedelta(days=1)


def _resolve(wall: dt.datetime) -> dt.datetime:
    """Normalize a wall time: fold=0 picks the first of two (fall-back) and, for a skipped time, the offset in
    force before the gap, which lands after the gap when converted (PEP 495 semantics)."""
    return wall.replace(fold=0).astimezone(dt.UTC)
