"""A milestone's conditions: add, update, delete (milestone Pending); Mark Complete and undo (Ready)."""

from __future__ import annotations

from fastapi import APIRouter

from contracts import milestones as services
from contracts.keys import MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource
from ms_prcs import views
from ms_prcs.approvals import hooks
from ms_prcs.service.deps import Service, Writer
from ms_prcs.service.models import Changed, ConditionBody
from ms_prcs.service.routes.keys import MILESTONE, MKey, Num

router = APIRouter(tags=["conditions"])
CONDITION = f"{MILESTONE}/conditions/{{seq}}"


def spec_of(body: ConditionBody) -> ConditionSpec:
    """The body as the services' ConditionSpec, as ``condition add`` builds it from its options."""
    project_given = any((body.project, body.activity, body.activity_status))
    source = (
        MilestoneSource(body.source.capitalize())
        if body.source
        else (MilestoneSource.PROJECTS if project_given else None)
    )
    return ConditionSpec(
        condition_type=ConditionType[body.type.upper()],
        descr=body.descr,
        condition_date=body.date,
        sql_text=body.sql,
        source=source,
        ref=MilestoneKey.parse(body.ref) if body.ref else None,
        days_lag=body.days_lag,
        project_id=body.project,
        activity_id=body.activity,
        activity_status=body.activity_status,
    )


@router.post(f"{MILESTONE}/conditions", response_model=Changed, status_code=201)
def add_condition(key: MKey, body: ConditionBody, caller: Writer, ctx: Service) -> Changed:
    """Add a condition to a Pending milestone; it starts Ready."""
    spec = spec_of(body)
    with ctx.transaction() as session:
        row = services.add_condition(session, key, spec, caller.who())
        seq, target = row.condition_seq, views.condition_target(row, body.ref)
    return Changed(
        milestone=str(key),
        seq=seq,
        status="Ready",
        message=f"condition {seq} added to milestone {key} ({spec.condition_type}: {target})",
    )


@router.put(CONDITION, response_model=Changed)
def update_condition(key: MKey, seq: Num, body: ConditionBody, caller: Writer, ctx: Service) -> Changed:
    """Replace every field of a condition (fields not given are cleared); it is reset to Ready."""
    with ctx.transaction() as session:
        services.update_condition(session, key, seq, spec_of(body), caller.who())
    return Changed(
        milestone=str(key),
        seq=seq,
        status="Ready",
        message=f"condition {seq} of milestone {key} updated (Ready)",
    )


@router.delete(CONDITION, response_model=Changed)
def delete_condition(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Delete a condition of a Pending milestone, whatever its status."""
    with ctx.transaction() as session:
        services.delete_condition(session, key, seq, caller.who())
    return Changed(milestone=str(key), seq=seq, message=f"condition {seq} of milestone {key} deleted")


@router.post(f"{CONDITION}/complete", response_model=Changed)
def complete(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Mark Complete a User Initiated condition of a Ready milestone, as the signed-in user."""
    with ctx.transaction() as session:
        row = hooks.mark_complete(session, key, seq, caller.who())
        status, by = row.condition_status, row.completed_by
    return Changed(
        milestone=str(key),
        seq=seq,
        status=status,
        message=f"condition {seq} of milestone {key} marked complete by {by}",
    )


@router.post(f"{CONDITION}/undo", response_model=Changed)
def undo(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Undo Mark Complete, until the milestone is Completed."""
    with ctx.transaction() as session:
        row = hooks.undo_mark_complete(session, key, seq, caller.who())
        status = row.condition_status
    return Changed(
        milestone=str(key),
        seq=seq,
        status=status,
        message=f"Mark Complete of condition {seq} of milestone {key} undone (Ready)",
    )
