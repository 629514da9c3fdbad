"""Impact by Milestone: the billing and revenue amounts that wait on milestones not yet Completed.

A plan event waits while the event is not done: a billing event until it is Billed, a revenue event until
it is Recognized or Reversed. Two views (``by``): ``flow`` (the default, the reference product's) places
the amount on the earliest milestones of the contract's flow not yet approved, the approvals it waits on
(:mod:`ms_prcs.reports.impact_flow`); ``own-milestone`` keeps it on the event's own milestone while that
is not Completed (``sql/impact_by_milestone.sql``). Cancelled milestones are included on purpose: money that
waits on a cancelled milestone waits forever, which is worth seeing. Past Due is the Activity report's rule
(:func:`ms_prcs.reports.activity.past_due`: estimated date, ready-by, complete-by).
Amounts are Decimals (an event's amount, or its percentage of its contract line's amount, rounded to
cents) and are never added across currencies: the totals are per business unit and currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Date, Numeric, String, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from contracts.errors import InvalidInput
from contracts.status import BillingEventStatus, MilestoneStatus, PlanType, RevenueEventStatus
from ms_prcs.reports.activity import late_flags, past_due
from ms_prcs.reports.impact_flow import flow_rows
from ms_prcs.reports.queries import run_query
from ms_prcs.reports.scope import SCOPE_BINDS, ChartSpec, ReportScope, ReportTable, check_scope

BILLING_DONE: tuple[BillingEventStatus, ...] = (BillingEventStatus.BILLED,)
REVENUE_DONE: tuple[RevenueEventStatus, ...] = (RevenueEventStatus.RECOGNIZED, RevenueEventStatus.REVERSED)

AMOUNTS = ("billing_events", "billing_amount", "revenue_events", "revenue_amount")
COLUMNS = (
    "milestone",
    "business_unit",
    "milestone_id",
    "status",
    "est_completion_date",
    "past_due",
    "currency",
    *AMOUNTS,
)
TOTAL_COLUMNS = ("business_unit", "currency", "milestones", *AMOUNTS)

_BINDS = (
    *SCOPE_BINDS,
    bindparam("billing_done", type_=String(), expanding=True),
    bindparam("revenue_done", type_=String(), expanding=True),
)
_COLUMNS: dict[str, TypeEngine[Any]] = {
    "est_completion_date": Date(),
    "billing_amount": Numeric(15, 2, asdecimal=True),
    "revenue_amount": Numeric(15, 2, asdecimal=True),
}
CENT = Decimal("0.01")

FLOW = "flow"
OWN_MILESTONE = "own-milestone"
VIEWS = (FLOW, OWN_MILESTONE)
"""Where an amount is placed: on the earliest open milestones of its flow, or on its own milestone."""


_TABLE_TITLES = {
    FLOW: "Amounts waiting on each milestone",
    OWN_MILESTONE: "Amounts waiting on each milestone (its own events only)",
}


@dataclass(frozen=True, eq=False)
class ImpactReport:
    """``by_milestone``: one row per waiting milestone (and currency); ``by_business_unit``: the totals."""

    scope: ReportScope
    by_milestone: pd.DataFrame = field(repr=False)
    by_business_unit: pd.DataFrame = field(repr=False)
    by: str = FLOW
    name: str = "impact"
    title: str = "Impact by Milestone"

    def tables(self) -> Sequence[ReportTable]:
        return (
            ReportTable("by_milestone", _TABLE_TITLES[self.by], self.by_milestone),
            ReportTable("by_business_unit", "Totals per business unit and currency", self.by_business_unit),
        )

    def totals(self) -> Mapping[str, Any]:
        """Counts only: amounts in different currencies do not add up (see ``by_business_unit``)."""
        frame = self.by_milestone
        return {
            "milestones": int(len(frame)),
            "billing_events": int(frame["billing_events"].sum()),
            "revenue_events": int(frame["revenue_events"].sum()),
        }

    def chart(self) -> ChartSpec:
        frame = self.by_business_unit
        return ChartSpec(
            title="Amounts waiting on milestones",
            ylabel="amount",
            categories=tuple(
                f"{bu} {cur}" for bu, cur in zip(frame["business_unit"], frame["currency"], strict=True)
            ),
            series=(
                ("Billing", tuple(float(v) for v in frame["billing_amount"])),
                ("Revenue", tuple(float(v) for v in frame["revenue_amount"])),
            ),
        )


def impact_report(session: Session, scope: ReportScope, by: str = FLOW) -> ImpactReport:
    """Waiting event amounts per milestone (placed as ``by`` says), and their totals per business unit and
    currency: one query for the amounts, one for Past Due."""
    if by not in VIEWS:
        raise InvalidInput(f"impact report: unknown view {by!r} (one of {', '.join(VIEWS)})")
    check_scope(session, scope)
    params = scope.params() | {
        "billing": PlanType.BILLING.value,
        "revenue": PlanType.REVENUE.value,
        "completed": MilestoneStatus.COMPLETED.value,
        "billing_done": [s.value for s in BILLING_DONE],
        "revenue_done": [s.value for s in REVENUE_DONE],
    }
    if by == FLOW:
        rows = flow_rows(session, params)
    else:
        rows = run_query(session, "impact_by_milestone", params, binds=_BINDS, columns=_COLUMNS)
    by_milestone = _by_milestone(rows, past_due(session, scope))
    return ImpactReport(scope=scope, by_milestone=by_milestone, by_business_unit=_totals(by_milestone), by=by)


def _by_milestone(rows: pd.DataFrame, late: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame({c: [] for c in COLUMNS})
    frame = rows.copy()
    frame["milestone"] = (
        frame["business_unit"]
        + "/"
        + frame["contract_num"]
        + "/"
        + frame["milestone_id"]
        + "/"
        + frame["milestone_num"].astype(str)
    )
    frame["past_due"] = late_flags(late, frame["milestone_pk"])
    for column in ("billing_amount", "revenue_amount"):
        frame[column] = frame[column].map(_money)
    for column in ("billing_events", "revenue_events"):
        frame[column] = frame[column].astype(int)
    return frame[list(COLUMNS)]


def _totals(by_milestone: pd.DataFrame) -> pd.DataFrame:
    if by_milestone.empty:
        return pd.DataFrame({c: [] for c in TOTAL_COLUMNS})
    grouped = by_milestone.groupby(["business_unit", "currency"], sort=True)
    frame = grouped[list(AMOUNTS)].sum()
    frame.insert(0, "milestones", grouped["milestone"].nunique())
    frame = frame.reset_index()
    for column in ("billing_amount", "revenue_amount"):
        frame[column] = frame[column].map(_money)
    return frame[list(TOTAL_COLUMNS)]


def _money(value: Any) -> Decimal:
    """Cents, whatever the driver returned (SQLite sums floats, PostgreSQL numerics)."""
    return Decimal(str(value)).quantize(CENT)
