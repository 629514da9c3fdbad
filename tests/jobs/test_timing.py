"""Nightly fire times across daylight-saving changes: once per local night, never skipped, never doubled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.timing import next_fire

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(start: dt.datetime, at: dt.time, tz: ZoneInfo, n: int) -> list[dt.datetime]:
    out, t = [], start
    for _ in range(n):
        t = next_fire(t, at, tz)
        out.append(t.astimezone(tz))
    return out


def test_spring_forward_moves_a_skipped_time_past_the_gap_and_keeps_the_next_night() -> None:
    got = fires(dt.datetime(2026, 3, 28, 2, 0, tzinfo=dt.UTC), dt.time(2, 30), BERLIN, 3)
    assert [f.isoformat() for f in got] == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_fall_back_fires_only_the_first_of_two_identical_wall_times() -> None:
    got = fires(dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC), dt.time(2, 30), BERLIN, 3)
    assert [f.isoformat() for f in got] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
        "2026-10-27T02:30:00+01:00",
    ]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        next_fire(dt.datetime(2026, 1, 1), dt.time(2, 0), BERLIN)


@given(
    after=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
    ),
    at=st.times(),
    tz=st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")]),
)
def test_next_fire_is_the_next_local_night_exactly_once(
    after: dt.datetime, at: dt.time, tz: ZoneInfo
) -> None:
    first = next_fire(after, at, tz)
    second = next_fire(first, at, tz)
    assert after < first <= after + dt.timedelta(hours=26)
    # one fire per local date, on consecutive local dates: no night skipped, none doubled
    assert second.astimezone(tz).date() - first.astimezone(tz).date() == dt.timedelta(days=1)
    # the wall time is the one asked for, unless that night skips it (then it is later, inside the gap's hour)
    local = first.astimezone(tz)
    wall = dt.datetime.combine(local.date(), at)
    assert dt.timedelta(0) <= local.replace(tzinfo=None) - wall <= dt.timedelta(hours=1)
