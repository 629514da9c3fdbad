"""Activity by Milestone: how many milestones of each milestone id are in each status, how many are Past
Due, and which Ready milestones have waited longest (the bottlenecks).

Counts are of the milestones' statuses now (the ``milestone`` table is the source of truth); the scope's
as-of date decides Past Due and how long the Ready ones have waited (see
:class:`~ms_prcs.reports.scope.ReportScope`). A bottleneck is a milestone that is Ready now, ranked by how
long ago its latest move to Ready was: it has passed its edit checks and waits on its conditions (a date,
someone's Mark Complete, a SQL, another milestone). Two queries in all, whatever the number of milestones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Date, DateTime
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from contracts.status import MilestoneStatus
from ms_prcs.approvals.sql import contract_t, milestone_t
from ms_prcs.approvals.view import deadlines
from ms_prcs.reports.queries import run_query
from ms_prcs.reports.scope import (
    SCOPE_BINDS,
    ChartSpec,
    ReportScope,
    ReportTable,
    check_scope,
    days_between,
    scope_filter,
)

STATUSES: tuple[MilestoneStatus, ...] = tuple(MilestoneStatus)
"""Count columns, in the order of the status machine (approval statuses will be columns of their own)."""

OPEN_STATUSES: tuple[MilestoneStatus, ...] = (MilestoneStatus.PENDING, MilestoneStatus.READY)
"""The statuses a milestone can be Past Due in: Completed and Cancelled ones are done."""

COLUMNS = (
    "milestone_id",
    "descr",
    *(s.value.lower() for s in STATUSES),
    "total",
    "past_due",
    "past_due_estimated",
    "past_due_ready_by",
    "past_due_complete_by",
    "longest_ready_days",
)
PAST_DUE_REASONS = ("past_due_estimated", "past_due_ready_by", "past_due_complete_by")
"""Why milestones are Past Due, counted apart (one milestone can have several reasons; ``past_due`` counts it
once): its estimated completion date, its ready-by deadline, its complete-by deadline."""
BOTTLENECK_COLUMNS = ("milestone", "descr", "ready_since", "days_ready", "est_completion_date", "past_due")

_COUNT_COLUMNS: dict[str, TypeEngine[Any]] = {"oldest_ready_since": DateTime()}
_BOTTLENECK_COLUMNS: dict[str, TypeEngine[Any]] = {"ready_since": DateTime(), "est_completion_date": Date()}


@dataclass(frozen=True, eq=False)
class ActivityReport:
    """``by_milestone``: one row per milestone id; ``bottlenecks``: the top Ready milestones, longest first."""

    scope: ReportScope
    by_milestone: pd.DataFrame = field(repr=False)
    bottlenecks: pd.DataFrame = field(repr=False)
    name: str = "activity"
    title: str = "Activity by Milestone"

    def tables(self) -> Sequence[ReportTable]:
        return (
            ReportTable("by_milestone", "Milestones by status", self.by_milestone),
            ReportTable("bottlenecks", "Bottlenecks (Ready longest)", self.bottlenecks),
        )

    def totals(self) -> Mapping[str, Any]:
        """Every count column summed over the milestone ids."""
        counted = [s.value.lower() for s in STATUSES] + ["total", "past_due", *PAST_DUE_REASONS]
        return {c: int(self.by_milestone[c].sum()) for c in counted}

    def chart(self) -> ChartSpec:
        frame = self.by_milestone
        return ChartSpec(
            title="Milestones by status",
            ylabel="milestones",
            categories=tuple(frame["milestone_id"]),
            series=tuple((s.value, tuple(float(v) for v in frame[s.value.lower()])) for s in STATUSES),
            stacked=True,
            counts=True,
        )


def activity_report(session: Session, scope: ReportScope, top: int = 5) -> ActivityReport:
    """Counts by status and Past Due per milestone id, and the ``top`` longest-waiting Ready milestones."""
    check_scope(session, scope)
    params = scope.params() | {"ready": MilestoneStatus.READY.value}
    counts = run_query(session, "activity_by_milestone", params, binds=SCOPE_BINDS, columns=_COUNT_COLUMNS)
    waiting = run_query(
        session, "bottlenecks", params | {"top": top}, binds=SCOPE_BINDS, columns=_BOTTLENECK_COLUMNS
    )
    late = past_due(session, scope)
    return ActivityReport(
        scope=scope,
        by_milestone=_by_milestone(counts, late, scope),
        bottlenecks=_bottlenecks(waiting, late, scope),
    )


def past_due(session: Session, scope: ReportScope) -> pd.DataFrame:
    """Per open milestone in scope: Past Due by the approval view's rule (ready-by and complete-by,
    :func:`ms_prcs.approvals.view.deadlines`, the statement the runs' warnings and ``approval list
    --past-due`` read) or by its estimated completion date, each reason apart. The bottlenecks and the
    Impact report read their ``past_due`` flag from here too, by ``milestone_pk``."""
    m, k = milestone_t, contract_t
    dl = deadlines(scope.as_of, lambda _m: sa.true(), late_only=False).subquery("ms_prcs_dl")
    day = sa.literal(scope.as_of, sa.Date)
    where: list[sa.ColumnElement[bool]] = [m.c.status.in_([s.value for s in OPEN_STATUSES])]
    where += scope_filter(scope.params(), k, m, "ms_prcs_window")
    rows = session.execute(
        sa.select(
            m.c.id,
            m.c.milestone_id,
            m.c.status,
            sa.case((m.c.est_completion_date < day, 1), else_=0).label("past_due_estimated"),
            sa.case((dl.c.ready_late, 1), else_=0).label("past_due_ready_by"),
            sa.case((dl.c.complete_late, 1), else_=0).label("past_due_complete_by"),
        )
        .select_from(m.join(k, k.c.id == m.c.contract_pk).outerjoin(dl, dl.c.milestone_pk == m.c.id))
        .where(*where)
    ).all()
    frame = pd.DataFrame.from_records(
        [tuple(r) for r in rows], columns=["milestone_pk", "milestone_id", "status", *PAST_DUE_REASONS]
    )
    frame["past_due"] = frame[list(PAST_DUE_REASONS)].max(axis=1) if len(frame) else []
    return frame


def _by_milestone(counts: pd.DataFrame, late: pd.DataFrame, scope: ReportScope) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame({c: [] for c in COLUMNS})
    grouped = counts.groupby("milestone_id", sort=True)
    per_status = counts.pivot_table(
        index="milestone_id", columns="status", values="milestones", aggfunc="sum", fill_value=0
    )
    frame = pd.DataFrame(index=per_status.index)
    frame["descr"] = grouped["descr"].max().fillna("")
    for status in STATUSES:
        frame[status.value.lower()] = per_status.get(status.value, 0)
    frame["total"] = grouped["milestones"].sum()
    per_id = late.groupby("milestone_id")[["past_due", *PAST_DUE_REASONS]].sum()
    for column in ("past_due", *PAST_DUE_REASONS):
        frame[column] = per_id[column].reindex(frame.index, fill_value=0) if len(per_id) else 0
    oldest = grouped["oldest_ready_since"].min()
    frame["longest_ready_days"] = days_between(oldest, scope.clock).round(2)
    frame = frame.reset_index()
    ints = [*(s.value.lower() for s in STATUSES), "total", "past_due", *PAST_DUE_REASONS]
    frame[ints] = frame[ints].astype(int)
    return frame[list(COLUMNS)]


def late_flags(late: pd.DataFrame, milestone_pks: pd.Series) -> list[bool]:
    """Past Due (any reason of :func:`past_due`) for each of ``milestone_pks``."""
    flagged = set(late.loc[late["past_due"] == 1, "milestone_pk"]) if len(late) else set()
    return [int(pk) in flagged for pk in milestone_pks]


def _bottlenecks(waiting: pd.DataFrame, late: pd.DataFrame, scope: ReportScope) -> pd.DataFrame:
    if waiting.empty:
        return pd.DataFrame({c: [] for c in BOTTLENECK_COLUMNS})
    frame = pd.DataFrame(
        {
            "milestone": waiting["business_unit"]
            + "/"
            + waiting["contract_num"]
            + "/"
            + waiting["milestone_id"]
            + "/"
            + waiting["milestone_num"].astype(str),
            "descr": waiting["descr"],
            "ready_since": pd.to_datetime(waiting["ready_since"]),
            "days_ready": days_between(waiting["ready_since"], scope.clock).round(2),
            "est_completion_date": waiting["est_completion_date"],
            "past_due": late_flags(late, waiting["milestone_pk"]),
        }
    )
    return frame[list(BOTTLENECK_COLUMNS)]
