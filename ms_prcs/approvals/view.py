"""The derived approval view of milestones, with the Past Due flag from their deadlines.

Per approval the view comes from :func:`ms_prcs.approvals.states.condition_state`; per milestone from
:func:`~ms_prcs.approvals.states.milestone_state`. A milestone is **Past Due** when, as of a date, it missed
its **ready-by** deadline (not yet submitted: its view is Not Ready for Approval, or, without approvals, it is
still Pending) or its **complete-by** deadline (not yet approved: its view is not Approved, or, without
approvals, it is not Completed). A deadline is a fixed date or a number of days after the contract's
activation (none before the contract is activated); the deadline day itself is still on time.

Past Due is decided in SQL (:func:`deadlines`), once for everyone: the engine writes its warnings with it
(one ``INSERT .. SELECT`` per run) and ``approval show`` reads the same statement for one milestone.
The view's moves need no rows of their own: the ``approval_action`` history says who moved it when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.sql_dates import add_days
from contracts.required import satisfied_sql
from contracts.status import ConditionStatus, MilestoneStatus
from ms_prcs.approvals.config.approval import RuleSpec
from ms_prcs.approvals.inbox import assignees
from ms_prcs.approvals.sql import (
    action_t,
    condition_t,
    contract_t,
    latest_action,
    milestone_key,
    milestone_t,
    rule_t,
    workflow_t,
)
from ms_prcs.approvals.states import (
    AWAITING_DECISION,
    Action,
    ApprovalState,
    condition_state,
    milestone_state,
)

MilestoneFilter = Callable[[sa.FromClause], sa.ColumnElement[bool]]
"""Which milestones: a predicate over a ``milestone`` table or alias (the engine passes its run's scope)."""


def every_milestone(_m: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.true()


def milestones_in(pks: Sequence[int]) -> MilestoneFilter:
    ids = sorted(set(pks))
    return lambda m: m.c.id.in_(ids)


def milestones_of(*, contract_pk: int | None = None, business_unit: str | None = None) -> MilestoneFilter:
    """The milestones of one contract, of one business unit, or (neither given) all."""

    def where(m: sa.FromClause) -> sa.ColumnElement[bool]:
        terms: list[sa.ColumnElement[bool]] = []
        if contract_pk is not None:
            terms.append(m.c.contract_pk == contract_pk)
        if business_unit is not None:
            terms.append(
                m.c.contract_pk.in_(
                    sa.select(contract_t.c.id).where(contract_t.c.business_unit == business_unit.upper())
                )
            )
        return sa.and_(sa.true(), *terms)

    return where


# --- deadlines and Past Due, in SQL ----------------------------------------------------------------


def _approvals_exist(
    m: sa.FromClause, *terms: Callable[[sa.FromClause], sa.ColumnElement[bool]]
) -> sa.Exists:
    c = condition_t.alias("ms_prcs_appr_c")
    r = rule_t.alias("ms_prcs_appr_r")
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(c.join(r, r.c.condition_pk == c.c.id))
        .where(c.c.milestone_pk == m.c.id, *(term(c) for term in terms))
    )


def _completed(c: sa.FromClause) -> sa.ColumnElement[bool]:
    return c.c.condition_status == ConditionStatus.COMPLETED.value


def _open(c: sa.FromClause) -> sa.ColumnElement[bool]:
    return c.c.condition_status != ConditionStatus.COMPLETED.value


def _waiting(c: sa.FromClause) -> sa.ColumnElement[bool]:
    return latest_action(c).in_(sorted({*AWAITING_DECISION, Action.NOT_APPROVED}))


def approved_sql(m: sa.FromClause) -> sa.ColumnElement[bool]:
    """The milestone's view is Approved (mirrors :func:`milestone_state`)."""
    c = condition_t.alias("ms_prcs_appr_c")
    r = rule_t.alias("ms_prcs_appr_r")
    by_required = satisfied_sql(  # over its approvals only: contracts.required, as milestone_state asks
        m.c.required_conditions,
        _completed(c),
        c.join(r, r.c.condition_pk == c.c.id),
        c.c.milestone_pk == m.c.id,
    )
    return sa.or_(m.c.status == MilestoneStatus.COMPLETED.value, by_required)


def submitted_sql(m: sa.FromClause) -> sa.ColumnElement[bool]:
    """The milestone was submitted: its view is Ready for Approval, Approved or Not Approved; without
    approvals, it is Ready or Completed."""
    has = _approvals_exist(m)
    return sa.or_(
        approved_sql(m),
        _approvals_exist(m, _open, _waiting),
        sa.and_(~has, m.c.status == MilestoneStatus.READY.value),
    )


def ready_by(m_workflow: sa.FromClause, contract: sa.FromClause) -> sa.ColumnElement[dt.date]:
    return sa.func.coalesce(
        m_workflow.c.ready_by_date, add_days(contract.c.activated_on, m_workflow.c.ready_by_days)
    )


def complete_by(m_workflow: sa.FromClause, contract: sa.FromClause) -> sa.ColumnElement[dt.date]:
    return sa.func.coalesce(
        m_workflow.c.complete_by_date, add_days(contract.c.activated_on, m_workflow.c.complete_by_days)
    )


def deadlines(as_of: dt.date, where: MilestoneFilter, *, late_only: bool) -> sa.Select[Any]:
    """Pending and Ready milestones with a deadline: (milestone_pk, key, ready_by, complete_by, ready_late,
    complete_late); with ``late_only``, only the Past Due ones. One statement for any number of milestones."""
    m, w, k = milestone_t, workflow_t, contract_t
    day = sa.literal(as_of, sa.Date)
    r_by, c_by = ready_by(w, k), complete_by(w, k)
    ready_late = sa.and_(r_by.is_not(None), r_by < day, ~submitted_sql(m))
    complete_late = sa.and_(c_by.is_not(None), c_by < day, ~approved_sql(m))
    query = (
        sa.select(
            m.c.id.label("milestone_pk"),
            milestone_key(k, m).label("milestone"),
            r_by.label("ready_by"),
            c_by.label("complete_by"),
            ready_late.label("ready_late"),
            complete_late.label("complete_late"),
        )
        .select_from(m.join(w, w.c.milestone_pk == m.c.id).join(k, k.c.id == m.c.contract_pk))
        .where(
            m.c.status.in_([MilestoneStatus.PENDING.value, MilestoneStatus.READY.value]),
            sa.or_(r_by.is_not(None), c_by.is_not(None)),
            where(m),
        )
    )
    return query.where(sa.or_(ready_late, complete_late)) if late_only else query


# --- the view, per milestone ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionApproval:
    condition_pk: int
    seq: int
    descr: str
    condition_status: str
    state: ApprovalState
    rule: RuleSpec
    last_action: str | None = None
    last_via: str = ""
    last_by: str = ""
    last_at: dt.datetime | None = None
    last_note: str = ""


@dataclass(frozen=True)
class MilestoneApproval:
    milestone_pk: int
    key: str
    descr: str
    status: str
    state: ApprovalState | None
    approvals: tuple[ConditionApproval, ...] = ()
    ready_by: dt.date | None = None
    complete_by: dt.date | None = None
    ready_late: bool = False
    complete_late: bool = False
    assignees: tuple[str, ...] = field(default=())

    @property
    def past_due(self) -> bool:
        return self.ready_late or self.complete_late

    def past_due_words(self) -> str:
        """``not submitted by 2026-02-01``, ``not approved by 2026-02-15``, both, or empty."""
        words = []
        if self.ready_late:
            words.append(f"not submitted by {self.ready_by}")
        if self.complete_late:
            words.append(f"not approved by {self.complete_by}")
        return "; ".join(words)

    def to_json(self) -> dict[str, Any]:
        return {
            "milestone": self.key,
            "descr": self.descr,
            "status": self.status,
            "approval": self.state.value if self.state else None,
            "past_due": self.past_due,
            "ready_by": self.ready_by,
            "complete_by": self.complete_by,
            "ready_late": self.ready_late,
            "complete_late": self.complete_late,
            "assigned": list(self.assignees),
            "approvals": [
                {
                    "seq": a.seq,
                    "descr": a.descr,
                    "condition_status": a.condition_status,
                    "approval": a.state.value,
                    "rule": a.rule.to_json(),
                    "last_action": a.last_action,
                    "last_by": a.last_by,
                    "last_at": a.last_at,
                    "last_note": a.last_note,
                }
                for a in self.approvals
            ],
        }


def _approval_rows(conn: sa.Connection | Session, where: MilestoneFilter) -> list[Any]:
    c, r, m = condition_t, rule_t, milestone_t
    return list(
        conn.execute(
            sa.select(
                c.c.id.label("condition_pk"),
                c.c.milestone_pk,
                c.c.condition_seq,
                c.c.descr,
                c.c.condition_status,
                *(col for col in r.c if col.name != "condition_pk"),
            )
            .select_from(c.join(r, r.c.condition_pk == c.c.id).join(m, m.c.id == c.c.milestone_pk))
            .where(where(m))
            .order_by(c.c.milestone_pk, c.c.condition_seq)
        )
    )


def _latest_rows(conn: sa.Connection | Session, condition_pks: Sequence[int]) -> dict[int, Any]:
    if not condition_pks:
        return {}
    a = action_t
    newest = (
        sa.select(sa.func.max(a.c.id))
        .where(a.c.condition_pk.in_(sorted(set(condition_pks))))
        .group_by(a.c.condition_pk)
    )
    return {row.condition_pk: row for row in conn.execute(sa.select(a).where(a.c.id.in_(newest)))}


def milestone_approvals(
    conn: sa.Connection | Session,
    as_of: dt.date,
    where: MilestoneFilter,
    *,
    with_approvals_only: bool = False,
    every: bool = False,
) -> list[MilestoneApproval]:
    """The view of the milestones ``where`` selects that have approvals or deadlines (only approvals with
    ``with_approvals_only``; all of them with ``every``), in key order. A handful of statements whatever the
    number of milestones."""
    rules = _approval_rows(conn, where)
    latest = _latest_rows(conn, [row.condition_pk for row in rules])
    late = {row.milestone_pk: row for row in conn.execute(deadlines(as_of, where, late_only=False))}
    by_milestone: dict[int, list[ConditionApproval]] = {}
    for row in rules:
        last = latest.get(row.condition_pk)
        by_milestone.setdefault(row.milestone_pk, []).append(
            ConditionApproval(
                condition_pk=row.condition_pk,
                seq=row.condition_seq,
                descr=row.descr,
                condition_status=row.condition_status,
                state=condition_state(row.condition_status, last.action if last else None),
                rule=RuleSpec.from_row(row),
                last_action=last.action if last else None,
                last_via=last.via if last else "",
                last_by=last.acted_by if last else "",
                last_at=last.acted_at if last else None,
                last_note=last.note if last else "",
            )
        )
    wanted = set(by_milestone) | (set() if with_approvals_only else set(late))
    if every:
        wanted |= set(conn.scalars(sa.select(milestone_t.c.id).where(where(milestone_t))))
    if not wanted:
        return []
    m, k = milestone_t, contract_t
    people = assignees(conn, sorted(wanted))
    rows = conn.execute(
        sa.select(m.c.id, milestone_key(k, m).label("key"), m.c.descr, m.c.status, m.c.required_conditions)
        .join(k, k.c.id == m.c.contract_pk)
        .where(m.c.id.in_(sorted(wanted)))
        .order_by(k.c.business_unit, k.c.contract_num, m.c.milestone_id, m.c.milestone_num)
    )
    result = []
    for row in rows:
        approvals = tuple(by_milestone.get(row.id, ()))
        dl = late.get(row.id)
        result.append(
            MilestoneApproval(
                milestone_pk=row.id,
                key=row.key,
                descr=row.descr,
                status=row.status,
                state=milestone_state(row.status, row.required_conditions, [a.state for a in approvals]),
                approvals=approvals,
                ready_by=_date(dl.ready_by) if dl else None,
                complete_by=_date(dl.complete_by) if dl else None,
                ready_late=bool(dl.ready_late) if dl else False,
                complete_late=bool(dl.complete_late) if dl else False,
                assignees=tuple(people.get(row.id, ())),
            )
        )
    return result


def _date(value: Any) -> dt.date | None:
    """SQLite returns computed dates as ISO text."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def history(conn: sa.Connection | Session, milestone_pk: int) -> list[dict[str, Any]]:
    """Every action on the milestone's approvals, oldest first: who, when, how, and the note."""
    a, c = action_t, condition_t
    return [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(
                c.c.condition_seq.label("seq"),
                a.c.action,
                a.c.via,
                a.c.acted_by.label("by"),
                a.c.acted_at.label("at"),
                a.c.note,
            )
            .join(c, c.c.id == a.c.condition_pk)
            .where(c.c.milestone_pk == milestone_pk)
            .order_by(a.c.id)
        )
    ]
