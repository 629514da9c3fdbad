"""Contract milestones and their conditions: the moves a person makes (DESIGN 2, the seed's rules).

Setting a milestone Ready needs the condition edit checks and lives in ``conditions.ready``; everything
else a user does to a milestone is here. Every refused request raises before anything is written, and
every status change writes its StatusChange row in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.admin import check_classification
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import InvalidTransition, NotFound, RuleViolation, StillReferenced
from contracts.keys import ContractKey, MilestoneKey, get_activity, get_condition, get_contract, get_milestone
from contracts.models import (
    Classification,
    ContractLine,
    Milestone,
    MilestoneCondition,
    Plan,
    PlanEvent,
)
from contracts.specs import ConditionSpec
from contracts.status import (
    MILESTONE_TRANSITIONS,
    Actor,
    ConditionStatus,
    ConditionType,
    CreatedFrom,
    MilestoneSource,
    MilestoneStatus,
    RequiredConditions,
    editable,
    mark_complete_allowed,
    move_error,
    undo_mark_allowed,
)
from contracts.templates import get_milestone_template


class MilestoneOptions(TypedDict, total=False):
    """The optional fields of :func:`add_milestone`, named once for the layers that wrap it and pass them
    on (the approval hooks), so a new field reaches every caller."""

    from_template: bool
    descr: str | None
    required: RequiredConditions | None
    est_completion_date: dt.date | None
    classification: str | None
    created_from: CreatedFrom


def add_milestone(
    session: Session,
    contract_key: ContractKey,
    milestone_id: str,
    who: Who,
    *,
    from_template: bool = False,
    descr: str | None = None,
    required: RequiredConditions | None = None,
    est_completion_date: dt.date | None = None,
    classification: str | None = None,
    created_from: CreatedFrom = CreatedFrom.MANUAL,
) -> Milestone:
    """Add the next milestone number for ``milestone_id`` on the contract, Pending.

    With ``from_template`` the template's description, required conditions, classification and conditions
    are copied; the copy is the contract's own and may be edited without touching the template.
    """
    contract = get_contract(session, contract_key)
    mid = milestone_id.upper()
    template = get_milestone_template(session, mid) if from_template else None
    if classification is not None and session.get(Classification, classification) is None:
        raise NotFound("classification", classification)
    num = 1 + (
        session.scalar(
            select(func.max(Milestone.milestone_num)).where(
                Milestone.contract_pk == contract.id, Milestone.milestone_id == mid
            )
        )
        or 0
    )
    milestone = Milestone(
        contract=contract,
        milestone_id=mid,
        milestone_num=num,
        descr=descr if descr is not None else (template.descr if template else ""),
        status=MilestoneStatus.PENDING,
        required_conditions=required
        or (template.required_conditions if template else RequiredConditions.ALL),
        est_completion_date=est_completion_date,
        classification=classification or (template.classification if template else None),
        created_from=CreatedFrom.TEMPLATE
        if template is not None and created_from == CreatedFrom.MANUAL
        else created_from,
    )
    session.add(milestone)
    session.flush()
    record_change(session, ObjectType.MILESTONE, milestone.id, None, MilestoneStatus.PENDING, who, "added")
    for ct in template.conditions if template else []:
        ref_pk = None
        if ct.ref_milestone_id:
            ref_pk = session.scalar(
                select(Milestone.id)
                .where(
                    Milestone.contract_pk == contract.id,
                    Milestone.milestone_id == ct.ref_milestone_id,
                    Milestone.status != MilestoneStatus.CANCELLED,
                )
                .order_by(Milestone.milestone_num)
                .limit(1)
            )
        _store_condition(
            milestone,
            ct.condition_seq,
            ConditionSpec.from_stored(ct),
            ref_pk,
        )
    session.flush()
    return milestone


def set_pending(session: Session, key: MilestoneKey, who: Who) -> Milestone:
    """Ready -> Pending, so that conditions can be edited again (the seed's example, step 1)."""
    milestone = get_milestone(session, key)
    change_status(session, milestone, MilestoneStatus.PENDING, who, "set Pending by user")
    return milestone


def cancel(session: Session, key: MilestoneKey, who: Who) -> Milestone:
    milestone = get_milestone(session, key)
    check_classification(session, milestone.classification, who.user, f"milestone {key}")
    problem = move_error(MILESTONE_TRANSITIONS, milestone.status, MilestoneStatus.CANCELLED, Actor.USER)
    if problem:
        raise InvalidTransition(f"milestone {key}", milestone.status, MilestoneStatus.CANCELLED, problem)
    refs = references(session, milestone)
    if refs:
        raise StillReferenced(f"milestone {key}", refs)
    change_status(session, milestone, MilestoneStatus.CANCELLED, who, "cancelled by user")
    return milestone


def references(session: Session, milestone: Milestone) -> list[str]:
    """Everything that still points at ``milestone``: plan events (any status) and conditions of milestones
    that are not Cancelled. A Cancelled milestone's conditions no longer count (DESIGN 6)."""
    refs: list[str] = []
    referrers = session.scalars(
        select(MilestoneCondition)
        .join(Milestone, MilestoneCondition.milestone_pk == Milestone.id)
        .where(
            MilestoneCondition.ref_milestone_pk == milestone.id,
            MilestoneCondition.source == MilestoneSource.CONTRACTS,
            Milestone.status != MilestoneStatus.CANCELLED,
        )
        .order_by(Milestone.id, MilestoneCondition.condition_seq)
    )
    refs += [
        f"condition {c.condition_seq} of milestone {c.milestone.key} ({c.milestone.status})"
        for c in referrers
    ]
    events = session.execute(
        select(PlanEvent, Plan, ContractLine)
        .join(Plan, PlanEvent.plan_pk == Plan.id)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .where(PlanEvent.milestone_pk == milestone.id)
        .order_by(Plan.id, PlanEvent.event_num)
    ).all()
    refs += [
        f"{plan.plan_type.lower()} plan {plan.plan_id} event {event.event_num} on line {line.line_num}"
        f" of {line.contract.key} ({event.status})"
        for event, plan, line in events
    ]
    return refs


def add_condition(session: Session, key: MilestoneKey, spec: ConditionSpec, who: Who) -> MilestoneCondition:
    milestone = _editable_milestone(
        session, key, who, "conditions can be added only while the milestone is Pending"
    )
    seq = 1 + max((c.condition_seq for c in milestone.conditions), default=0)
    checked = spec.checked(f"milestone {key} condition {seq}")
    condition = _store_condition(milestone, seq, checked, _resolve_ref(session, checked))
    session.flush()
    return condition


def update_condition(
    session: Session, key: MilestoneKey, seq: int, spec: ConditionSpec, who: Who
) -> MilestoneCondition:
    """Replace a condition's fields. A change resets the condition to Ready (the seed's note), so a condition
    that was Completed is reopened with a StatusChange row saying why."""
    _editable_milestone(session, key, who, "conditions can be changed only while the milestone is Pending")
    condition = get_condition(session, key, seq)
    checked = spec.checked(f"milestone {key} condition {seq}")
    for name, value in checked.stored().items():
        setattr(condition, name, value)
    condition.ref_milestone_pk = _resolve_ref(session, checked)
    if condition.condition_status != ConditionStatus.READY:
        record_change(
            session,
            ObjectType.CONDITION,
            condition.id,
            condition.condition_status,
            ConditionStatus.READY,
            who,
            "condition changed",
        )
    condition.condition_status = ConditionStatus.READY
    condition.completed_on = None
    condition.completed_by = None
    session.flush()
    return condition


def delete_condition(session: Session, key: MilestoneKey, seq: int, who: Who) -> None:
    """Delete while Pending, whatever the condition's status (the seed: 'the condition status is irrelevant')."""
    milestone = _editable_milestone(
        session, key, who, "conditions can be deleted only while the milestone is Pending"
    )
    condition = get_condition(session, key, seq)
    milestone.conditions.remove(condition)
    session.flush()


def mark_complete(session: Session, key: MilestoneKey, seq: int, who: Who) -> MilestoneCondition:
    """Mark Complete: a person says a User Initiated condition is met; the next run completes the milestone.

    A condition with an approval rule is marked complete only by an eligible approver: that check is the
    approval layer's, so people reach this through :func:`ms_prcs.approvals.hooks.mark_complete` (the one
    entry point, which refuses approvals) and approvers through ``ms_prcs.approvals.decide``."""
    condition = get_condition(session, key, seq)
    milestone = condition.milestone
    obj = f"condition {seq} of milestone {key}"
    problem = mark_complete_refusal(
        condition.condition_type, milestone.status, condition.condition_status, is_approval=False
    )
    if problem:
        raise RuleViolation(obj, problem)
    check_classification(session, milestone.classification, who.user, f"milestone {key}")
    condition.condition_status = ConditionStatus.COMPLETED
    condition.completed_on = who.at.date()  # a run as of an earlier date brings it back to that date
    condition.completed_by = who.user
    record_change(
        session,
        ObjectType.CONDITION,
        condition.id,
        ConditionStatus.READY,
        ConditionStatus.COMPLETED,
        who,
        "Mark Complete",
    )
    session.flush()
    return condition


def mark_complete_refusal(
    condition_type: ConditionType,
    milestone_status: MilestoneStatus,
    condition_status: ConditionStatus,
    *,
    is_approval: bool,
) -> str | None:
    """Why Mark Complete is refused for a condition in this state (before the classification check), or
    ``None``: the one list of these rules, for :func:`mark_complete` and the mass Mark Complete alike."""
    if condition_type != ConditionType.USER:
        return f"only User Initiated conditions can be marked complete, this is {condition_type}"
    if is_approval:
        return APPROVAL_REFUSAL
    if not mark_complete_allowed(milestone_status):
        return f"Mark Complete needs the milestone Ready, it is {milestone_status}"
    if condition_status == ConditionStatus.COMPLETED:
        return "is already Completed"
    return None


def undo_mark_complete(session: Session, key: MilestoneKey, seq: int, who: Who) -> MilestoneCondition:
    """Undo Mark Complete; an approval's is undone by an approver (unapprove), which the approval layer
    checks (:func:`ms_prcs.approvals.hooks.undo_mark_complete`)."""
    condition = get_condition(session, key, seq)
    milestone = condition.milestone
    obj = f"condition {seq} of milestone {key}"
    if condition.condition_type != ConditionType.USER:
        raise RuleViolation(
            obj,
            f"only a User Initiated condition's Mark Complete can be undone, this is {condition.condition_type}",
        )
    if not undo_mark_allowed(milestone.status):
        raise RuleViolation(obj, f"Mark Complete cannot be undone once the milestone is {milestone.status}")
    if condition.condition_status != ConditionStatus.COMPLETED:
        raise RuleViolation(obj, "is not marked complete")
    check_classification(session, milestone.classification, who.user, f"milestone {key}")
    condition.condition_status = ConditionStatus.READY
    condition.completed_on = None
    condition.completed_by = None
    record_change(
        session,
        ObjectType.CONDITION,
        condition.id,
        ConditionStatus.COMPLETED,
        ConditionStatus.READY,
        who,
        "undo Mark Complete",
    )
    session.flush()
    return condition


def change_status(
    session: Session, milestone: Milestone, new: MilestoneStatus, who: Who, reason: str
) -> None:
    """The one place a user's milestone move is checked against the status machine and audited."""
    check_classification(session, milestone.classification, who.user, f"milestone {milestone.key}")
    problem = move_error(MILESTONE_TRANSITIONS, milestone.status, new, Actor.USER)
    if problem:
        raise InvalidTransition(f"milestone {milestone.key}", milestone.status, new, problem)
    old = milestone.status
    milestone.status = new
    record_change(session, ObjectType.MILESTONE, milestone.id, old, new, who, reason)
    session.flush()


def _editable_milestone(session: Session, key: MilestoneKey, who: Who, rule: str) -> Milestone:
    milestone = get_milestone(session, key)
    if not editable(milestone.status):
        raise RuleViolation(f"milestone {key}", f"{rule}; it is {milestone.status}")
    check_classification(session, milestone.classification, who.user, f"milestone {key}")
    return milestone


def _resolve_ref(session: Session, spec: ConditionSpec) -> int | None:
    """A referenced milestone or activity must exist when named; completeness is checked at Ready time."""
    if spec.ref is not None:
        return get_milestone(session, spec.ref).id
    if spec.source == MilestoneSource.PROJECTS and spec.project_id and spec.activity_id:
        get_activity(session, spec.project_id, spec.activity_id)
    return None


def _store_condition(
    milestone: Milestone, seq: int, spec: ConditionSpec, ref_pk: int | None
) -> MilestoneCondition:
    condition = MilestoneCondition(
        milestone_pk=milestone.id,
        condition_seq=seq,
        ref_milestone_pk=ref_pk,
        condition_status=ConditionStatus.READY,
        **spec.stored(),
    )
    milestone.conditions.append(condition)
    return condition


APPROVAL_REFUSAL = "is an approval: only an eligible approver may approve (or unapprove) it, with `approval`"
