"""Activity by Milestone against the figures worked out by hand in ``fixture.py``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts import milestones
from ms_prcs.reports import ReportScope, activity_report
from tests.reports import fixture


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def test_counts_by_status_past_due_and_longest_ready(report_db: Session, scope: ReportScope) -> None:
    report = activity_report(report_db, scope)

    # MS001: A Completed, C Pending, E Ready (since day 0.5, due 03-09: Past Due); MS002: B Ready (since
    # day 1, due 03-05: Past Due), D Cancelled (due 03-01, but Cancelled is never Past Due).
    assert rows(report.by_milestone) == [
        {
            "milestone_id": "MS001",
            "descr": "Design review",
            "pending": 1,
            "ready": 1,
            "completed": 1,
            "cancelled": 0,
            "total": 3,
            "past_due": 1,
            "past_due_estimated": 1,
            "past_due_ready_by": 0,
            "past_due_complete_by": 0,
            "longest_ready_days": 9.5,
        },
        {
            "milestone_id": "MS002",
            "descr": "Delivery",
            "pending": 0,
            "ready": 1,
            "completed": 0,
            "cancelled": 1,
            "total": 2,
            "past_due": 1,
            "past_due_estimated": 1,
            "past_due_ready_by": 0,
            "past_due_complete_by": 0,
            "longest_ready_days": 9.0,
        },
    ]
    assert dict(report.totals()) == {
        "pending": 1,
        "ready": 2,
        "completed": 1,
        "cancelled": 1,
        "total": 5,
        "past_due": 2,
        "past_due_estimated": 2,
        "past_due_ready_by": 0,
        "past_due_complete_by": 0,
    }


def test_past_due_means_estimated_date_before_as_of(report_db: Session) -> None:
    """On 03-09 E (due 03-09) is not yet Past Due; B (due 03-05) is. Ready time runs to the end of 03-09."""
    report = activity_report(report_db, ReportScope(as_of=dt.date(2025, 3, 9)))

    by_id = report.by_milestone.set_index("milestone_id")
    assert by_id.loc["MS001", "past_due"] == 0
    assert by_id.loc["MS002", "past_due"] == 1
    assert by_id.loc["MS001", "longest_ready_days"] == 8.5


def test_business_unit_scope(report_db: Session) -> None:
    report = activity_report(report_db, ReportScope(as_of=fixture.AS_OF, business_units=("US001",)))

    ms001 = rows(report.by_milestone)[0]
    assert ms001 == {
        "milestone_id": "MS001",
        "descr": "Design review",
        "pending": 1,
        "ready": 0,
        "completed": 1,
        "cancelled": 0,
        "total": 2,
        "past_due": 0,
        "past_due_estimated": 0,
        "past_due_ready_by": 0,
        "past_due_complete_by": 0,
        "longest_ready_days": None,
    }
    assert report.totals()["total"] == 4
    assert report.bottlenecks["milestone"].tolist() == ["US001/K1/MS002/1"]


def test_window_picks_milestones_with_a_status_change_in_it(report_db: Session) -> None:
    """03-07..03-08 (inclusive): D was cancelled on 03-07, A completed on 03-08 at noon; nothing else moved."""
    scope = ReportScope(as_of=fixture.AS_OF, date_from=dt.date(2025, 3, 7), date_to=dt.date(2025, 3, 8))
    report = activity_report(report_db, scope)

    frame = report.by_milestone[["milestone_id", "completed", "cancelled", "total"]]
    assert frame.to_dict(orient="records") == [
        {"milestone_id": "MS001", "completed": 1, "cancelled": 0, "total": 1},
        {"milestone_id": "MS002", "completed": 0, "cancelled": 1, "total": 1},
    ]
    assert report.bottlenecks.empty

    only_from = activity_report(report_db, ReportScope(as_of=fixture.AS_OF, date_from=dt.date(2025, 3, 8)))
    assert only_from.totals()["total"] == 1  # A
    only_to = activity_report(report_db, ReportScope(as_of=fixture.AS_OF, date_to=dt.date(2025, 3, 1)))
    assert only_to.totals()["total"] == 4  # all but C, added on 03-02


def test_bottlenecks_longest_waiting_ready_first(report_db: Session, scope: ReportScope) -> None:
    report = activity_report(report_db, scope)

    assert rows(report.bottlenecks) == [
        {
            "milestone": "CA001/K3/MS001/1",
            "descr": "Design review",
            "ready_since": pd.Timestamp("2025-03-01 12:00"),
            "days_ready": 9.5,
            "est_completion_date": dt.date(2025, 3, 9),
            "past_due": True,
        },
        {
            "milestone": "US001/K1/MS002/1",
            "descr": "Hardware delivered",
            "ready_since": pd.Timestamp("2025-03-02 00:00"),
            "days_ready": 9.0,
            "est_completion_date": dt.date(2025, 3, 5),
            "past_due": True,
        },
    ]
    assert activity_report(report_db, scope, top=1).bottlenecks["milestone"].tolist() == ["CA001/K3/MS001/1"]


def test_a_milestone_waits_since_its_latest_move_to_ready(report_db: Session, scope: ReportScope) -> None:
    """C goes Ready on day 2, back to Pending on day 3, Ready again on day 8: it has waited 2 days, not 8."""
    make_ready(report_db, fixture.C, fixture.at(2), fixture.RULES)
    milestones.set_pending(report_db, fixture.C, fixture.at(3))
    make_ready(report_db, fixture.C, fixture.at(8), fixture.RULES)
    report_db.commit()

    report = activity_report(report_db, scope)

    waiting = report.bottlenecks.set_index("milestone")["days_ready"].to_dict()
    assert waiting == {"CA001/K3/MS001/1": 9.5, "US001/K1/MS002/1": 9.0, "US001/K2/MS001/1": 2.0}
    assert report.bottlenecks["milestone"].tolist()[-1] == "US001/K2/MS001/1"


def test_empty_database(session: Session, scope: ReportScope) -> None:
    report = activity_report(session, scope)

    assert report.by_milestone.empty
    assert report.bottlenecks.empty
    assert set(report.totals().values()) == {0}
