"""The Milestone condition (DESIGN 3), from either source:

- **Contracts**: met when the referenced milestone is Completed and ``completed_on + days_lag <= as_of``.
- **Projects**: met when the activity's *first* history row with the target status has
  ``effdt + days_lag <= as_of``. First, because the seed's Project Costing milestones fire once: an activity
  that passed through the status and moved on has still reached it.

Both are a correlated lookup per condition row (a primary-key probe for Contracts, a ``min(effdt)`` over one
activity's history for Projects), so the engine evaluates thousands of conditions in one statement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.sql_dates import add_days
from contracts.models import ActivityStatusHistory, Milestone, MilestoneCondition, ProjectActivity
from contracts.schema import table_of
from contracts.status import ConditionType, MilestoneSource, MilestoneStatus

TYPE = ConditionType.MILESTONE

_milestone = table_of(Milestone)
_activity = table_of(ProjectActivity)
_history = table_of(ActivityStatusHistory)
_REF = _milestone.alias("ms_prcs_ref")
"""The referenced milestone. One alias for every statement: aliases are immutable, and building one copies
every column of the table, per statement and chunk."""


def is_contracts(c: sa.FromClause) -> sa.ColumnElement[bool]:
    """Contracts is the default source (a condition stored without one still means another milestone)."""
    return sa.or_(c.c.source == MilestoneSource.CONTRACTS, c.c.source.is_(None))


def is_projects(c: sa.FromClause) -> sa.ColumnElement[bool]:
    return c.c.source == MilestoneSource.PROJECTS


def first_reached(c: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The effdt of the first history row with the condition's activity status (NULL: never reached)."""
    return (
        sa.select(sa.func.min(_history.c.effdt))
        .select_from(_history.join(_activity, _activity.c.id == _history.c.activity_pk))
        .where(
            _activity.c.project_id == c.c.project_id,
            _activity.c.activity_id == c.c.activity_id,
            _history.c.status == c.c.activity_status,
        )
        .scalar_subquery()
    )


def ref_completed_on(c: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The referenced milestone's completion date, NULL unless it is Completed.

    Its only filter is the primary key. Written as ``EXISTS (... WHERE id = ref AND status = 'Completed')``
    both SQLite and PostgreSQL may probe the status index instead (Completed milestones look rare when the
    run starts), and each probe then walks every milestone the run has completed so far: a quadratic run.
    """
    ref = _REF
    completed_on = sa.case((ref.c.status == MilestoneStatus.COMPLETED, ref.c.completed_on))
    return sa.select(completed_on).where(ref.c.id == c.c.ref_milestone_pk).scalar_subquery()


def ref_status(c: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The referenced milestone's status (NULL without one), by primary key only, as above."""
    ref = _REF
    return sa.select(ref.c.status).where(ref.c.id == c.c.ref_milestone_pk).scalar_subquery()


def lag_met(
    happened_on: sa.ColumnElement[Any], days_lag: sa.ColumnElement[int], as_of: dt.date
) -> sa.ColumnElement[bool]:
    """The Days Lag rule, its one definition: what happened on ``happened_on`` meets the condition as of
    ``as_of`` once ``days_lag`` days have passed (``happened_on + days_lag <= as_of``, written as a bound on
    ``happened_on``). NULL (never happened) is not met. :func:`met` and :func:`verdict` use it over the
    condition rows; :func:`met_on` evaluates it for one date, for the explanation."""
    return happened_on <= add_days(sa.literal(as_of, sa.Date), -days_lag)


def met_on(session: Session, happened_on: dt.date, days_lag: int, as_of: dt.date) -> bool:
    """:func:`lag_met` for one date, evaluated by the database as in a run (so the words cannot differ)."""
    on = sa.literal(happened_on, sa.Date)
    return bool(session.scalar(sa.select(sa.case((lag_met(on, sa.literal(days_lag), as_of), 1), else_=0))))


def met(c: sa.FromClause, as_of: dt.date) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(is_contracts(c), lag_met(ref_completed_on(c), c.c.days_lag, as_of)),
        sa.and_(is_projects(c), lag_met(first_reached(c), c.c.days_lag, as_of)),
    )


def verdict(
    c: sa.FromClause, as_of: dt.date, *, met: int, not_met: int, blocked: int
) -> sa.ColumnElement[int]:
    """:func:`met` and :func:`blocked` in one expression, with one primary-key probe per Contracts condition
    (not one for each question): the engine's first pass asks both of every Ready condition in a chunk."""
    ref = _REF
    on_ref = sa.case(
        (
            sa.and_(
                ref.c.status == MilestoneStatus.COMPLETED, lag_met(ref.c.completed_on, c.c.days_lag, as_of)
            ),
            met,
        ),
        (ref.c.status == MilestoneStatus.CANCELLED, blocked),
        else_=not_met,
    )
    contracts = sa.func.coalesce(  # no row: no reference at all, which is blocked too
        sa.select(on_ref).where(ref.c.id == c.c.ref_milestone_pk).scalar_subquery(), blocked
    )
    activity = sa.exists(
        sa.select(sa.literal(1)).where(
            _activity.c.project_id == c.c.project_id, _activity.c.activity_id == c.c.activity_id
        )
    )
    projects = sa.case(
        (c.c.activity_status.is_(None), blocked),
        (lag_met(first_reached(c), c.c.days_lag, as_of), met),
        (~activity, blocked),
        else_=not_met,
    )
    return sa.case((is_projects(c), projects), else_=contracts)


def blocked(c: sa.FromClause) -> sa.ColumnElement[bool]:
    """Cannot become met as things stand: no reference, a Cancelled one, or an activity that does not exist."""
    cancelled = ref_status(c) == MilestoneStatus.CANCELLED
    activity = sa.exists(
        sa.select(sa.literal(1)).where(
            _activity.c.project_id == c.c.project_id, _activity.c.activity_id == c.c.activity_id
        )
    )
    return sa.or_(
        sa.and_(is_contracts(c), sa.or_(c.c.ref_milestone_pk.is_(None), cancelled)),
        sa.and_(is_projects(c), sa.or_(c.c.activity_status.is_(None), sa.not_(activity))),
    )


def blocked_reason(row: Any) -> str:
    """Words for a row the engine found :func:`blocked`; ``row`` carries ``source``, ``ref_key``,
    ``project_id``, ``activity_id`` and ``activity_status``."""
    if row.source == MilestoneSource.PROJECTS:
        if not row.activity_status:
            return "has no activity status to wait for"
        return f"references project activity {row.project_id}/{row.activity_id}, which does not exist"
    if row.ref_key is None:
        return "references no milestone"
    return f"references milestone {row.ref_key}, which is Cancelled"


def explain(session: Session, condition: MilestoneCondition, as_of: dt.date) -> tuple[bool, str]:
    lag = condition.days_lag or 0
    if condition.source == MilestoneSource.PROJECTS:
        return _explain_projects(session, condition, as_of, lag)
    ref = condition.ref_milestone
    if ref is None:
        return False, "references no milestone"
    if ref.status != MilestoneStatus.COMPLETED or ref.completed_on is None:
        return False, f"waiting for {ref.key} ({ref.status})"
    return _lagged(session, f"{ref.key} Completed on {ref.completed_on}", ref.completed_on, lag, as_of)


def explain_in_run(
    session: Session, condition: MilestoneCondition, as_of: dt.date, completed_in_run: frozenset[str]
) -> tuple[bool, str] | None:
    """The words for a Contracts condition whose milestone the same run completes first (the engine's dry
    run says so: ``completed_in_run``): met in this run when the Days Lag allows a completion on ``as_of``
    itself. None when the run does not meet it this way (the plain :func:`explain` words stand)."""
    ref = condition.ref_milestone
    if condition.source == MilestoneSource.PROJECTS or ref is None or ref.key not in completed_in_run:
        return None
    if ref.status == MilestoneStatus.COMPLETED:
        return None
    if not met_on(session, as_of, condition.days_lag or 0, as_of):
        return None
    return True, f"met in this run: {ref.key} completes first"


def _explain_projects(
    session: Session, condition: MilestoneCondition, as_of: dt.date, lag: int
) -> tuple[bool, str]:
    activity = f"{condition.project_id}/{condition.activity_id}"
    first = session.scalar(
        sa.select(sa.func.min(ActivityStatusHistory.effdt))
        .join(ProjectActivity, ProjectActivity.id == ActivityStatusHistory.activity_pk)
        .where(
            ProjectActivity.project_id == condition.project_id,
            ProjectActivity.activity_id == condition.activity_id,
            ActivityStatusHistory.status == condition.activity_status,
        )
    )
    if first is None:
        return False, f"waiting for project activity {activity} to reach {condition.activity_status}"
    happened = f"project activity {activity} first reached {condition.activity_status} on {first}"
    return _lagged(session, happened, first, lag, as_of)


def _lagged(session: Session, happened: str, on: dt.date, lag: int, as_of: dt.date) -> tuple[bool, str]:
    """Words around :func:`met_on`'s verdict; the date named is only the day the verdict turns."""
    met = met_on(session, on, lag, as_of)
    due = on + dt.timedelta(days=lag)
    if lag == 0:
        return (True, happened) if met else (False, f"{happened}, after as-of {as_of}")
    if met:
        return True, f"{happened}; Days Lag {lag}: met on {due}"
    return False, f"{happened}; Days Lag {lag}: met on {due}, after as-of {as_of}"
