"""Unset actions: an amount change, a detail change or a reopen reverts approvals (the seed's "Unset
Actions will unapprove a Milestone ... all of the Milestones that come after are unapproved as well").

Which milestones revert, for one contract and one action:

1. the milestones not yet Completed (nor Cancelled) that carry that unset action, and
2. every milestone not yet Completed (nor Cancelled) of a later step than one of those (step order as in
   :mod:`ms_prcs.approvals.steps`; step 0 = unordered, so it neither cascades nor is cascaded to).

Reverting a milestone sets its Completed User Initiated conditions (approvals, and plain Mark Completes)
back to Ready, each with a StatusChange row and an ``approval_action`` row ``Reverted`` (the submission
stands: the approval is Ready for Approval again). A Completed milestone stays Completed: it is final
(DESIGN 2), billing may already have consumed it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.audit import ObjectType, Who, change_row, record_changes
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.schema import table_of
from contracts.status import ConditionStatus, ConditionType
from ms_prcs.approvals.config.structure import UnsetAction
from ms_prcs.approvals.models import ApprovalAction, MilestoneWorkflow
from ms_prcs.approvals.steps import OPEN_STATUSES, earlier

REVERTED = "Reverted"
"""``approval_action.action`` of a reverted approval (``ms_prcs.approvals.states.Action.REVERTED``)."""

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_k = table_of(Contract)
_w = table_of(MilestoneWorkflow)

_WHY = {
    UnsetAction.AMOUNT: "an amount of the contract changed",
    UnsetAction.DETAIL: "a detail (attribute) of the contract changed",
    UnsetAction.REOPEN: "the contract was reopened",
}


def revert_approvals(session: Session, contract_pk: int, action: UnsetAction, who: Who) -> list[str]:
    """Revert what ``action`` unsets on the contract; returns one note per reverted condition."""
    session.flush()
    conn = session.connection()
    flag = _w.c[f"unset_on_{action.value}"]
    trig_m, trig_w = _m.alias("ms_prcs_unset_m"), _w.alias("ms_prcs_unset_w")
    triggers = (
        sa.select(sa.literal(1))
        .select_from(trig_m.join(trig_w, trig_w.c.milestone_pk == trig_m.c.id))
        .where(
            trig_m.c.contract_pk == contract_pk,
            trig_m.c.status.in_(OPEN_STATUSES),
            trig_w.c[flag.key].is_(True),
        )
    )
    later = triggers.where(earlier(trig_w, _w.c.step, _w.c.sub_step))
    affected = (
        sa.select(_m.c.id)
        .select_from(_m.join(_w, _w.c.milestone_pk == _m.c.id))
        .where(
            _m.c.contract_pk == contract_pk,
            _m.c.status.in_(OPEN_STATUSES),
            sa.or_(flag.is_(True), sa.exists(later)),
        )
    )
    rows = conn.execute(
        sa.select(
            _c.c.id,
            _c.c.condition_seq,
            _k.c.business_unit,
            _k.c.contract_num,
            _m.c.milestone_id,
            _m.c.milestone_num,
        )
        .select_from(_c.join(_m, _m.c.id == _c.c.milestone_pk).join(_k, _k.c.id == _m.c.contract_pk))
        .where(
            _c.c.milestone_pk.in_(affected),
            _c.c.condition_type == ConditionType.USER.value,
            _c.c.condition_status == ConditionStatus.COMPLETED.value,
        )
        .order_by(_m.c.milestone_id, _m.c.milestone_num, _c.c.condition_seq)
    ).all()
    if not rows:
        return []
    pks = [r.id for r in rows]
    conn.execute(
        _c.update()
        .where(_c.c.id.in_(pks))
        .values(condition_status=ConditionStatus.READY.value, completed_on=None, completed_by=None)
    )
    reason = f"unset action ({action.value}): {_WHY[action]}"
    record_changes(
        conn,
        [
            change_row(
                ObjectType.CONDITION, pk, ConditionStatus.COMPLETED, ConditionStatus.READY, who, reason
            )
            for pk in pks
        ],
    )
    conn.execute(
        sa.insert(ApprovalAction),
        [
            {
                "condition_pk": pk,
                "action": REVERTED,
                "via": f"unset:{action.value}",
                "note": reason,
                "acted_by": who.user[:40],
                "acted_at": who.at.replace(microsecond=0),
            }
            for pk in pks
        ],
    )
    session.expire_all()
    return [
        f"condition {r.condition_seq} of milestone {r.business_unit}/{r.contract_num}/{r.milestone_id}/"
        f"{r.milestone_num} reverted to Ready ({reason})"
        for r in rows
    ]
