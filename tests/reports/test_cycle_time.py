"""Cycle Time by Milestone against ``fixture.py``: days per milestone and status, then statistics.

Days in each status per milestone, as of 2025-03-10 (open stays run to 2025-03-11 00:00, day 10):

====  ==========================  ==============================
      Pending                     Ready
====  ==========================  ==============================
A     0-2 + 3-5 = 4               2-3 + 5-7.5 = 3.5 (two stays)
B     0-1 = 1                     1-10 = 9 (open)
C     1-10 = 9 (open)             -
D     0-4 = 4                     4-6 = 2 (then Cancelled)
E     0-0.5 = 0.5                 0.5-10 = 9.5 (open)
====  ==========================  ==============================

The 90th percentile interpolates linearly: of [0.5, 4, 9] it is 4 + 0.8 * (9 - 4) = 8.0.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts.keys import MilestoneKey, get_milestone
from ms_prcs.reports import ReportScope, cycle_time_report
from tests.reports import fixture


def days_of(session: Session, frame: pd.DataFrame) -> dict[tuple[str, str], tuple[float, bool]]:
    """``per_milestone`` keyed by the fixture's letters: (A, Ready) -> (3.5, False)."""
    letters = {
        get_milestone(session, key).id: letter
        for letter, key in (
            ("A", fixture.A),
            ("B", fixture.B),
            ("C", fixture.C),
            ("D", fixture.D),
            ("E", fixture.E),
        )
    }
    return {
        (letters[int(pk)], str(status)): (round(float(days), 6), bool(is_open))
        for pk, status, days, is_open in zip(
            frame["milestone_pk"], frame["status"], frame["days"], frame["open"], strict=True
        )
    }


def test_days_per_milestone_and_status(report_db: Session, scope: ReportScope) -> None:
    report = cycle_time_report(report_db, scope)

    assert days_of(report_db, report.per_milestone) == {
        ("A", "Pending"): (4.0, False),
        ("A", "Ready"): (3.5, False),
        ("B", "Pending"): (1.0, False),
        ("B", "Ready"): (9.0, True),
        ("C", "Pending"): (9.0, True),
        ("D", "Pending"): (4.0, False),
        ("D", "Ready"): (2.0, False),
        ("E", "Pending"): (0.5, False),
        ("E", "Ready"): (9.5, True),
    }
    assert report.totals() == {"milestones": 5}


def test_statistics_per_milestone_id(report_db: Session, scope: ReportScope) -> None:
    report = cycle_time_report(report_db, scope)

    assert report.by_milestone.to_dict(orient="records") == [
        # MS001 Pending: A 4, C 9, E 0.5. Ready: A 3.5, E 9.5.
        {"milestone_id": "MS001", "status": "Pending", "milestones": 3, "open": 1,
         "mean_days": 4.5, "median_days": 4.0, "p90_days": 8.0},
        {"milestone_id": "MS001", "status": "Ready", "milestones": 2, "open": 1,
         "mean_days": 6.5, "median_days": 6.5, "p90_days": 8.9},
        # MS002 Pending: B 1, D 4. Ready: B 9, D 2.
        {"milestone_id": "MS002", "status": "Pending", "milestones": 2, "open": 0,
         "mean_days": 2.5, "median_days": 2.5, "p90_days": 3.7},
        {"milestone_id": "MS002", "status": "Ready", "milestones": 2, "open": 1,
         "mean_days": 5.5, "median_days": 5.5, "p90_days": 8.3},
    ]  # fmt: skip
    assert report.overall.to_dict(orient="records") == [
        # Pending: 0.5, 1, 4, 4, 9. Ready: 2, 3.5, 9, 9.5.
        {"status": "Pending", "milestones": 5, "open": 1,
         "mean_days": 3.7, "median_days": 4.0, "p90_days": 7.0},
        {"status": "Ready", "milestones": 4, "open": 2,
         "mean_days": 6.0, "median_days": 6.25, "p90_days": 9.35},
    ]  # fmt: skip


def test_ready_pending_ready_is_summed_per_milestone(report_db: Session, scope: ReportScope) -> None:
    """A (Ready 1 day, Pending 2 days, Ready 2.5 days) is one milestone with 3.5 days Ready, not two stays."""
    only_a = ReportScope(as_of=scope.as_of, date_from=dt.date(2025, 3, 8), date_to=dt.date(2025, 3, 8))
    report = cycle_time_report(report_db, only_a)

    assert report.by_milestone.to_dict(orient="records") == [
        {"milestone_id": "MS001", "status": "Pending", "milestones": 1, "open": 0,
         "mean_days": 4.0, "median_days": 4.0, "p90_days": 4.0},
        {"milestone_id": "MS001", "status": "Ready", "milestones": 1, "open": 0,
         "mean_days": 3.5, "median_days": 3.5, "p90_days": 3.5},
    ]  # fmt: skip


def test_open_stays_run_to_the_end_of_the_as_of_day(report_db: Session) -> None:
    """Two days later the open stays (B Ready, C Pending, E Ready) are two days longer; closed ones are not."""
    later = cycle_time_report(report_db, ReportScope(as_of=dt.date(2025, 3, 12)))

    days = days_of(report_db, later.per_milestone)
    assert days[("B", "Ready")] == (11.0, True)
    assert days[("C", "Pending")] == (11.0, True)
    assert days[("E", "Ready")] == (11.5, True)
    assert days[("A", "Ready")] == (3.5, False)
    assert days[("D", "Ready")] == (2.0, False)


def test_an_as_of_date_before_an_open_stay_counts_it_as_zero(report_db: Session) -> None:
    """C has been Pending since 03-02: as of 02-28 that open stay has lasted 0 days, not a negative time."""
    early = cycle_time_report(report_db, ReportScope(as_of=dt.date(2025, 2, 28)))

    assert days_of(report_db, early.per_milestone)[("C", "Pending")] == (0.0, True)


def test_business_unit_scope(report_db: Session, scope: ReportScope) -> None:
    report = cycle_time_report(report_db, ReportScope(as_of=scope.as_of, business_units=("CA001",)))

    assert report.overall[["status", "milestones", "mean_days"]].to_dict(orient="records") == [
        {"status": "Pending", "milestones": 1, "mean_days": 0.5},
        {"status": "Ready", "milestones": 1, "mean_days": 9.5},
    ]


def test_moves_at_the_same_instant_are_ordered_by_their_id(report_db: Session, scope: ReportScope) -> None:
    """A milestone added and made Ready in the same instant (auto-ready) spent 0 days Pending."""
    key = MilestoneKey.parse("CA001/K3/MS002/1")
    fixture.add_milestone(report_db, key, 9, dt.date(2025, 3, 31))
    make_ready(report_db, key, fixture.at(9), fixture.RULES)
    report_db.commit()

    report = cycle_time_report(report_db, ReportScope(as_of=scope.as_of, business_units=("CA001",)))

    ms002 = report.by_milestone[report.by_milestone["milestone_id"] == "MS002"]
    assert ms002[["status", "mean_days"]].to_dict(orient="records") == [
        {"status": "Pending", "mean_days": 0.0},
        {"status": "Ready", "mean_days": 1.0},
    ]


def test_empty_database(session: Session, scope: ReportScope) -> None:
    report = cycle_time_report(session, scope)

    assert report.by_milestone.empty
    assert report.overall.empty
    assert report.totals() == {"milestones": 0}
