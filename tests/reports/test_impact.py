"""Impact by Milestone against ``fixture.py``: event amounts waiting on milestones not yet Completed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from contracts import milestones
from contracts.errors import InvalidInput
from ms_prcs.reports import ReportScope, impact_report
from ms_prcs.reports.impact import FLOW, OWN_MILESTONE
from tests.reports import fixture

D = Decimal


@pytest.mark.parametrize("by", [FLOW, OWN_MILESTONE])
def test_amounts_waiting_per_milestone(report_db: Session, scope: ReportScope, by: str) -> None:
    report = impact_report(report_db, scope, by)

    # A is Completed: its 40% event does not wait. B: 60% of 1000.00 billing (the Billed 100.00 is done) and
    # 100% revenue. C: 250.50 billing (its revenue event is Recognized). D: Cancelled, not Completed, so 50% of
    # 2000.00 still waits. E: 100% of 500.00 CAD In Progress (taken, not yet Billed); its revenue is Reversed.
    assert report.by_milestone.to_dict(orient="records") == [
        {"milestone": "CA001/K3/MS001/1", "business_unit": "CA001", "milestone_id": "MS001",
         "status": "Ready", "est_completion_date": dt.date(2025, 3, 9), "past_due": True, "currency": "CAD",
         "billing_events": 1, "billing_amount": D("500.00"), "revenue_events": 0, "revenue_amount": D("0.00")},
        {"milestone": "US001/K1/MS002/1", "business_unit": "US001", "milestone_id": "MS002",
         "status": "Ready", "est_completion_date": dt.date(2025, 3, 5), "past_due": True, "currency": "USD",
         "billing_events": 1, "billing_amount": D("600.00"), "revenue_events": 1, "revenue_amount": D("1000.00")},
        {"milestone": "US001/K2/MS001/1", "business_unit": "US001", "milestone_id": "MS001",
         "status": "Pending", "est_completion_date": dt.date(2025, 3, 20), "past_due": False, "currency": "USD",
         "billing_events": 1, "billing_amount": D("250.50"), "revenue_events": 0, "revenue_amount": D("0.00")},
        {"milestone": "US001/K2/MS002/1", "business_unit": "US001", "milestone_id": "MS002",
         "status": "Cancelled", "est_completion_date": dt.date(2025, 3, 1), "past_due": False, "currency": "USD",
         "billing_events": 1, "billing_amount": D("1000.00"), "revenue_events": 0, "revenue_amount": D("0.00")},
    ]  # fmt: skip


def test_totals_per_business_unit_and_currency(report_db: Session, scope: ReportScope) -> None:
    report = impact_report(report_db, scope)

    assert report.by_business_unit.to_dict(orient="records") == [
        {"business_unit": "CA001", "currency": "CAD", "milestones": 1, "billing_events": 1,
         "billing_amount": D("500.00"), "revenue_events": 0, "revenue_amount": D("0.00")},
        {"business_unit": "US001", "currency": "USD", "milestones": 3, "billing_events": 3,
         "billing_amount": D("1850.50"), "revenue_events": 1, "revenue_amount": D("1000.00")},
    ]  # fmt: skip
    assert report.totals() == {"milestones": 4, "billing_events": 4, "revenue_events": 1}


def test_business_unit_scope(report_db: Session, scope: ReportScope) -> None:
    report = impact_report(report_db, ReportScope(as_of=scope.as_of, business_units=("CA001",)))

    assert report.by_milestone["milestone"].tolist() == ["CA001/K3/MS001/1"]
    assert report.by_business_unit["business_unit"].tolist() == ["CA001"]


def test_completing_a_milestone_frees_its_events(report_db: Session, scope: ReportScope) -> None:
    fixture.complete(report_db, fixture.B, 9)
    report_db.commit()

    report = impact_report(report_db, scope)

    assert "US001/K1/MS002/1" not in report.by_milestone["milestone"].tolist()
    us = report.by_business_unit.set_index("business_unit").loc["US001"]
    assert (us["billing_amount"], us["revenue_amount"], us["milestones"]) == (D("1250.50"), D("0.00"), 2)


def test_empty_database(session: Session, scope: ReportScope) -> None:
    report = impact_report(session, scope)

    assert report.by_milestone.empty
    assert report.by_business_unit.empty
    assert report.totals() == {"milestones": 0, "billing_events": 0, "revenue_events": 0}


# --- the flow view: the amount waits on the earliest milestones not yet approved ----------------------


def _k4(session: Session, by: str = FLOW) -> dict[str, D]:
    frame = impact_report(session, ReportScope(as_of=fixture.AS_OF), by).by_milestone
    rows = frame[frame["milestone"].str.startswith("US001/K4/")]
    return dict(zip(rows["milestone"], rows["billing_amount"], strict=True))


def test_flow_places_the_amount_on_the_earliest_unapproved(report_db: Session) -> None:
    fixture.flow_contract(report_db, [(1, 0), (2, 0), (3, 0)])

    assert _k4(report_db) == {"US001/K4/MS001/1": D("300.00")}
    assert _k4(report_db, OWN_MILESTONE) == {"US001/K4/MS001/3": D("300.00")}


def test_flow_places_the_amount_on_each_open_milestone_of_one_step(report_db: Session) -> None:
    fixture.flow_contract(report_db, [(1, 0), (1, 0), (2, 0)])

    assert _k4(report_db) == {"US001/K4/MS001/1": D("300.00"), "US001/K4/MS001/2": D("300.00")}


def test_sub_steps_order_milestones_within_a_step(report_db: Session) -> None:
    fixture.flow_contract(report_db, [(1, 2), (1, 1), (2, 0)])

    assert _k4(report_db) == {"US001/K4/MS001/2": D("300.00")}


def test_the_amount_moves_on_as_approvals_happen(report_db: Session) -> None:
    keys = fixture.flow_contract(report_db, [(1, 0), (2, 0), (2, 0), (3, 0)])
    fixture.complete(report_db, keys[0], 8)
    report_db.commit()

    assert _k4(report_db) == {"US001/K4/MS001/2": D("300.00"), "US001/K4/MS001/3": D("300.00")}

    fixture.complete(report_db, keys[1], 8.5)
    report_db.commit()
    assert _k4(report_db) == {"US001/K4/MS001/3": D("300.00")}

    fixture.complete(report_db, keys[2], 9)
    report_db.commit()
    assert _k4(report_db) == {"US001/K4/MS001/4": D("300.00")}

    fixture.complete(report_db, keys[3], 9.5)
    report_db.commit()
    assert _k4(report_db) == {}


def test_a_cancelled_earlier_milestone_holds_nothing_back(report_db: Session) -> None:
    keys = fixture.flow_contract(report_db, [(1, 0), (2, 0)])
    milestones.cancel(report_db, keys[0], fixture.at(8))
    report_db.commit()

    assert _k4(report_db) == {"US001/K4/MS001/2": D("300.00")}


def test_unordered_milestones_keep_their_own_events(report_db: Session, scope: ReportScope) -> None:
    # The fixture has no steps: both views are the same, row for row (the own-milestone view as before).
    flow = impact_report(report_db, scope).by_milestone
    own = impact_report(report_db, scope, OWN_MILESTONE).by_milestone

    assert flow.to_dict(orient="records") == own.to_dict(orient="records")


def test_unknown_view_is_bad_input(report_db: Session, scope: ReportScope) -> None:
    with pytest.raises(InvalidInput, match="unknown view 'nearest'"):
        impact_report(report_db, scope, "nearest")
