"""Step order as SQL: which milestone_workflow row comes before which.

Step 0 means "no order" (the PeopleSoft default, and every milestone without a workflow row): such a
milestone neither waits nor is waited for. Milestones of the same step go in any order, unless both carry a
sub-step, which orders them within the step (the seed's "sub-order multiple Milestones within the same
step"). ``ms_prcs.approvals.sql.earlier`` says the same for submissions; both must agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.models import Contract, Milestone
from contracts.schema import table_of
from contracts.status import MilestoneStatus
from ms_prcs.approvals.models import MilestoneWorkflow

OPEN_STATUSES = (MilestoneStatus.PENDING.value, MilestoneStatus.READY.value)
"""An earlier-step milestone that is Pending or Ready holds later steps back; Completed and Cancelled ones do
not (a Cancelled milestone will never complete, so nothing may wait for it)."""

_milestone = table_of(Milestone)
_workflow = table_of(MilestoneWorkflow)


def earlier(
    other: sa.FromClause, step: sa.ColumnElement[int], sub_step: sa.ColumnElement[int]
) -> sa.ColumnElement[bool]:
    """``other`` (a milestone_workflow row or alias) comes before a milestone at (``step``, ``sub_step``)."""
    return sa.and_(
        other.c.step > 0,
        step > 0,
        sa.or_(
            other.c.step < step,
            sa.and_(other.c.step == step, other.c.sub_step > 0, sub_step > 0, other.c.sub_step < sub_step),
        ),
    )


def describe(step: int, sub_step: int) -> str:
    """``2``, ``2.1`` or ``-`` (unordered), as lists and messages print a step."""
    if step <= 0:
        return "-"
    return f"{step}.{sub_step}" if sub_step > 0 else str(step)


def earlier_open(milestone: sa.FromClause, workflow: sa.FromClause) -> sa.Exists:
    """Some milestone of the same contract in an earlier step is still Pending or Ready."""
    m2 = _milestone.alias("ms_prcs_earlier_m")
    w2 = _workflow.alias("ms_prcs_earlier_w")
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(m2.join(w2, w2.c.milestone_pk == m2.c.id))
        .where(
            m2.c.contract_pk == milestone.c.contract_pk,
            m2.c.id != milestone.c.id,
            m2.c.status.in_(OPEN_STATUSES),
            earlier(w2, sa.func.coalesce(workflow.c.step, 0), sa.func.coalesce(workflow.c.sub_step, 0)),
        )
        # ``milestone`` may sit two levels up (the engine's step check): without this SQLAlchemy correlates
        # only the enclosing SELECT's tables and adds ``milestone`` to this FROM, so that an open earlier
        # step of *any* contract held the milestone back (found by the reference test of issue 15).
        .correlate_except(m2, w2)
    )


def earlier_open_keys(session: Session, milestone_pk: int) -> list[str]:
    """The Pending or Ready milestones of earlier steps of the milestone's contract, as ``KEY (Status)``
    (empty when it may complete any time): the words for what :func:`earlier_open` holds back."""
    m, w = _milestone.alias("ms_prcs_held_m"), _workflow.alias("ms_prcs_held_w")
    m2, w2 = _milestone.alias("ms_prcs_held_m2"), _workflow.alias("ms_prcs_held_w2")
    rows = session.execute(
        sa.select(m2.c.milestone_id, m2.c.milestone_num, m2.c.status, m2.c.contract_pk)
        .select_from(
            m.join(w, w.c.milestone_pk == m.c.id)
            .join(m2, m2.c.contract_pk == m.c.contract_pk)
            .join(w2, w2.c.milestone_pk == m2.c.id)
        )
        .where(
            m.c.id == milestone_pk,
            w.c.any_time.is_(False),
            m2.c.status.in_(OPEN_STATUSES),
            earlier(w2, w.c.step, w.c.sub_step),
        )
        .order_by(w2.c.step, w2.c.sub_step, m2.c.milestone_id, m2.c.milestone_num)
    ).all()
    if not rows:
        return []
    contract = session.get(Contract, rows[0].contract_pk)
    assert contract is not None
    return [f"{contract.key}/{r.milestone_id}/{r.milestone_num} ({r.status})" for r in rows]
