"""Cycle Time by Milestone: how long milestones spend in each status, from the status_change history.

How a milestone's time in a status is measured:

- Its status_change rows are read in their sequence, ``id`` (never ``changed_at``, which ties within a
  second when a run completes a milestone just set Ready). Each move into a measured status starts a stay that ends at the milestone's next move, whatever that is (Ready -> Pending ends a Ready stay
  and starts a Pending one; the engine's move to Completed, or a cancellation, ends the last stay).
- **Open stays are included**: a milestone still in the status runs up to the scope's clock, the end of the
  as-of day; the ``open`` column counts the milestones with such a stay.
- **Stays are summed per milestone first**, then the statistics are taken across milestones: a milestone
  that went Ready -> Pending -> Ready counts once towards Ready, with both stays added. So ``milestones`` is
  how many milestones ever were in the status, and ``mean_days`` is the mean time one milestone spent there.
- Statistics are in days: count, mean, median and the 90th percentile, interpolated linearly between the
  two nearest milestones (pandas' and numpy's default).

Which statuses are measured is data, :data:`MEASURES`: one entry per kind of history (a status_change
``object_type`` whose rows name a milestone as ``object_pk``) with its statuses in report order. When the
approvals layer records the derived approval view's moves (Ready for Approval -> Approved, ...) as status_change
rows of their own object type keyed by the milestone, measuring them is one more entry here: more rows from the
same query, and no change to the statistics. (They need their own object type: interleaved with the
milestone's own moves, each would cut the other's stays short.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, DateTime, String, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from contracts.audit import ObjectType
from contracts.status import MilestoneStatus
from ms_prcs.reports.queries import run_query
from ms_prcs.reports.scope import SCOPE_BINDS, ChartSpec, ReportScope, ReportTable, check_scope, days_between

MEASURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (ObjectType.MILESTONE.value, (MilestoneStatus.PENDING.value, MilestoneStatus.READY.value)),
)
"""(object_type of the history, statuses measured). Completed and Cancelled are end points, not stays."""

PERCENTILE = 0.9
STATS = ("milestones", "open", "mean_days", "median_days", "p90_days")
COLUMNS = ("milestone_id", "status", *STATS)
OVERALL_COLUMNS = ("status", *STATS)

_BINDS = (*SCOPE_BINDS, bindparam("statuses", type_=String(), expanding=True))
_COLUMNS: dict[str, TypeEngine[Any]] = {
    "started_at": DateTime(),
    "ended_at": DateTime(),
    "is_open": Boolean(),
}


@dataclass(frozen=True, eq=False)
class CycleTimeReport:
    """``by_milestone``: one row per milestone id and status; ``overall``: one row per status, all ids.
    ``per_milestone`` keeps the summed days of every milestone, for programs that want their own figures."""

    scope: ReportScope
    by_milestone: pd.DataFrame = field(repr=False)
    overall: pd.DataFrame = field(repr=False)
    per_milestone: pd.DataFrame = field(repr=False)
    name: str = "cycle-time"
    title: str = "Cycle Time by Milestone"

    def tables(self) -> Sequence[ReportTable]:
        return (
            ReportTable("by_milestone", "Days in status per milestone id", self.by_milestone),
            ReportTable("overall", "Days in status, all milestone ids", self.overall),
        )

    def totals(self) -> Mapping[str, Any]:
        return {"milestones": int(self.per_milestone["milestone_pk"].nunique())}

    def chart(self) -> ChartSpec:
        frame = self.by_milestone
        ids = tuple(dict.fromkeys(frame["milestone_id"]))
        statuses = tuple(dict.fromkeys(frame["status"]))
        median = {
            (i, s): float(d)
            for i, s, d in zip(frame["milestone_id"], frame["status"], frame["median_days"], strict=True)
        }
        return ChartSpec(
            title="Median days in status",
            ylabel="days",
            categories=ids,
            series=tuple((s, tuple(median.get((i, s), 0.0) for i in ids)) for s in statuses),
        )


def cycle_time_report(session: Session, scope: ReportScope) -> CycleTimeReport:
    """Time in status per milestone id, one query per kind of history in :data:`MEASURES`."""
    check_scope(session, scope)
    histories: list[pd.DataFrame] = [
        run_query(
            session,
            "status_intervals",
            scope.params() | {"history_type": history_type, "statuses": list(statuses), "clock": scope.clock},
            binds=_BINDS,
            columns=_COLUMNS,
        )
        for history_type, statuses in MEASURES
    ]
    stays = pd.concat(histories, ignore_index=True)
    per_milestone = _per_milestone(stays)
    order = [s for _, statuses in MEASURES for s in statuses]
    return CycleTimeReport(
        scope=scope,
        by_milestone=_statistics(per_milestone, ["milestone_id", "status"], order, COLUMNS),
        overall=_statistics(per_milestone, ["status"], order, OVERALL_COLUMNS),
        per_milestone=per_milestone,
    )


def _per_milestone(stays: pd.DataFrame) -> pd.DataFrame:
    """Days per milestone and status: the stays of one milestone in one status added up."""
    columns = ["milestone_pk", "milestone_id", "status", "days", "open"]
    if stays.empty:
        return pd.DataFrame({c: [] for c in columns})
    stays = stays.assign(days=days_between(stays["started_at"], pd.to_datetime(stays["ended_at"])))
    grouped = stays.groupby(["milestone_pk", "milestone_id", "status"], sort=False)
    frame = grouped.agg(days=("days", "sum"), open=("is_open", "max")).reset_index()
    frame["open"] = frame["open"].astype(bool)
    return frame[columns]


def _statistics(
    per_milestone: pd.DataFrame, keys: list[str], order: list[str], columns: Sequence[str]
) -> pd.DataFrame:
    if per_milestone.empty:
        return pd.DataFrame({c: [] for c in columns})
    grouped = per_milestone.groupby(keys, sort=False)
    frame = grouped.agg(
        milestones=("days", "size"),
        open=("open", "sum"),
        mean_days=("days", "mean"),
        median_days=("days", "median"),
        p90_days=("days", lambda days: days.quantile(PERCENTILE)),
    ).reset_index()
    frame[["milestones", "open"]] = frame[["milestones", "open"]].astype(int)
    for column in ("mean_days", "median_days", "p90_days"):
        frame[column] = frame[column].astype(float).round(2)
    rank = {status: i for i, status in enumerate(order)}
    frame = frame.assign(_rank=frame["status"].map(rank)).sort_values([*keys[:-1], "_rank"], kind="stable")
    return frame[list(columns)].reset_index(drop=True)
