"""SQL shared by the approval services and the engine's approval step: tables, the latest action of an
approval, the step order, and date arithmetic that reads the same on SQLite and PostgreSQL.

Every predicate here is a column expression over the tables (or aliases) it is given, so the one-contract
services and the engine's run over a whole scope use the same words for "not yet submitted" and "earlier
step", and cannot drift apart. The step order itself is :func:`contracts.workflow.steps.earlier`, the one
definition the step rules of the workflow use too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from contracts.models import Contract, ContractAttribute, Milestone, MilestoneCondition, StatusChange
from contracts.workflow.steps import OPEN_STATUSES, earlier
from contracts.workflow_models import (
    ApprovalAction,
    ApprovalRule,
    InboxItem,
    MilestoneAssignment,
    MilestoneWorkflow,
)

condition_t = cast(sa.Table, MilestoneCondition.__table__)
milestone_t = cast(sa.Table, Milestone.__table__)
contract_t = cast(sa.Table, Contract.__table__)
attribute_t = cast(sa.Table, ContractAttribute.__table__)
rule_t = cast(sa.Table, ApprovalRule.__table__)
action_t = cast(sa.Table, ApprovalAction.__table__)
workflow_t = cast(sa.Table, MilestoneWorkflow.__table__)
inbox_t = cast(sa.Table, InboxItem.__table__)
assignment_t = cast(sa.Table, MilestoneAssignment.__table__)
status_change_t = cast(sa.Table, StatusChange.__table__)


def latest_action(condition: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The latest ``approval_action.action`` of each ``condition`` row (NULL when it has none): a probe of
    the (condition_pk, id) index per row."""
    a = action_t.alias("ms_prcs_latest_action")
    return (
        sa.select(a.c.action)
        .where(a.c.condition_pk == condition.c.id)
        .order_by(a.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def earlier_open(milestone: sa.FromClause, workflow: sa.FromClause) -> sa.Exists:
    """Some milestone of the same contract in an earlier step is still Pending or Ready."""
    m2 = milestone_t.alias("ms_prcs_earlier_m")
    w2 = workflow_t.alias("ms_prcs_earlier_w")
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(m2.join(w2, w2.c.milestone_pk == m2.c.id))
        .where(
            m2.c.contract_pk == milestone.c.contract_pk,
            m2.c.id != milestone.c.id,
            m2.c.status.in_(OPEN_STATUSES),
            earlier(w2, sa.func.coalesce(workflow.c.step, 0), sa.func.coalesce(workflow.c.sub_step, 0)),
        )
    )


def prerequisites_met(milestone: sa.FromClause, workflow: sa.FromClause) -> sa.ColumnElement[bool]:
    """An approval may be submitted when every earlier step is done, or any time when its milestone says so."""
    return sa.or_(workflow.c.any_time.is_(True), ~earlier_open(milestone, workflow))


class add_days(sa.ColumnElement[dt.date]):  # noqa: N801 - reads like the SQL function it is
    """``day + days`` as a date (``days`` a column): a deadline given as days after contract activation."""

    type = sa.Date()
    inherit_cache = True
    _traverse_internals = [
        ("day", InternalTraversal.dp_clauseelement),
        ("days", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, day: sa.ColumnElement[dt.date], days: sa.ColumnElement[int]) -> None:
        self.day = day
        self.days = days


@compiles(add_days)
def _add_days_default(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.day, **kw)} AS DATE) + {compiler.process(element.days, **kw)})"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    # Dates are ISO text in SQLite; date() with a day modifier returns ISO text, which compares as dates do.
    day = compiler.process(element.day, **kw)
    days = compiler.process(element.days, **kw)
    return f"date({day}, {days} || ' days')"


class iso_date(sa.ColumnElement[str]):  # noqa: N801
    """A date as ``YYYY-MM-DD`` text, for messages written by SQL (PostgreSQL's own text depends on DateStyle)."""

    type = sa.String()
    inherit_cache = True
    _traverse_internals = [("day", InternalTraversal.dp_clauseelement)]

    def __init__(self, day: sa.ColumnElement[dt.date]) -> None:
        self.day = day


@compiles(iso_date)
def _iso_date_default(element: iso_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.day, **kw)}, 'YYYY-MM-DD')"


@compiles(iso_date, "sqlite")
def _iso_date_sqlite(element: iso_date, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.day, **kw)


def milestone_key(contract: sa.FromClause, milestone: sa.FromClause) -> sa.ColumnElement[str]:
    """``US001/K1000/MS001/1`` in SQL."""
    return sa.cast(
        contract.c.business_unit
        + "/"
        + contract.c.contract_num
        + "/"
        + milestone.c.milestone_id
        + "/"
        + sa.cast(milestone.c.milestone_num, sa.String),
        sa.String,
    )
