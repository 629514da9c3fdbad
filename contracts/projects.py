"""Project Costing stand-in: activities with effective-dated status history, and their inactivation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.errors import AlreadyExists, RuleViolation
from contracts.keys import get_activity
from contracts.models import (
    ActivityStatusHistory,
    Contract,
    ContractLine,
    Milestone,
    MilestoneCondition,
    Plan,
    PlanEvent,
    ProjectActivity,
)
from contracts.status import MilestoneSource, MilestoneStatus


def add_activity(session: Session, project_id: str, activity_id: str, descr: str = "") -> ProjectActivity:
    if session.scalar(
        select(ProjectActivity.id).where(
            ProjectActivity.project_id == project_id, ProjectActivity.activity_id == activity_id
        )
    ):
        raise AlreadyExists("project activity", f"{project_id}/{activity_id}")
    activity = ProjectActivity(project_id=project_id, activity_id=activity_id, descr=descr, active=True)
    session.add(activity)
    session.flush()
    return activity


def set_activity_status(
    session: Session, project_id: str, activity_id: str, status: str, effdt: dt.date
) -> ActivityStatusHistory:
    """Append a history row; several on one day get increasing effseq, so order is never ambiguous."""
    activity = get_activity(session, project_id, activity_id)
    if not activity.active:
        raise RuleViolation(f"project activity {activity.key}", "is inactive; its status cannot change")
    seq = 1 + max((h.effseq for h in activity.history if h.effdt == effdt), default=-1)
    row = ActivityStatusHistory(activity_pk=activity.id, effdt=effdt, effseq=seq, status=status)
    activity.history.append(row)
    session.flush()
    return row


def inactivate_activity(session: Session, project_id: str, activity_id: str) -> list[str]:
    """Inactivate an activity. Succeeds even when contracts reference it (the seed: a warning, not a refusal);
    returns the warnings naming those contracts."""
    activity = get_activity(session, project_id, activity_id)
    activity.active = False
    session.flush()
    return [
        f"project activity {activity.key} is referenced by contract {c}"
        for c in referencing_contracts(session, activity)
    ]


def referencing_contracts(session: Session, activity: ProjectActivity) -> list[str]:
    by_condition = (
        select(Contract.business_unit, Contract.contract_num)
        .join(Milestone, Milestone.contract_pk == Contract.id)
        .join(MilestoneCondition, MilestoneCondition.milestone_pk == Milestone.id)
        .where(
            MilestoneCondition.source == MilestoneSource.PROJECTS,
            MilestoneCondition.project_id == activity.project_id,
            MilestoneCondition.activity_id == activity.activity_id,
            Milestone.status != MilestoneStatus.CANCELLED,
        )
    )
    by_event = (
        select(Contract.business_unit, Contract.contract_num)
        .join(ContractLine, ContractLine.contract_pk == Contract.id)
        .join(Plan, Plan.contract_line_pk == ContractLine.id)
        .join(PlanEvent, PlanEvent.plan_pk == Plan.id)
        .where(PlanEvent.activity_pk == activity.id)
    )
    rows = session.execute(by_condition.union(by_event)).all()
    return sorted(f"{bu}/{num}" for bu, num in rows)
