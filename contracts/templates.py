"""Milestone templates: generic milestones whose conditions are copied onto contracts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.errors import AlreadyExists, NotFound
from contracts.models import Classification, ConditionTemplate, MilestoneTemplate
from contracts.specs import ConditionSpec
from contracts.status import RequiredConditions


def add_milestone_template(
    session: Session,
    milestone_id: str,
    *,
    descr: str = "",
    required: RequiredConditions = RequiredConditions.ALL,
    classification: str | None = None,
    conditions: Sequence[ConditionSpec] = (),
) -> MilestoneTemplate:
    mid = milestone_id.upper()
    if session.get(MilestoneTemplate, mid) is not None:
        raise AlreadyExists("milestone template", mid)
    if classification is not None and session.get(Classification, classification) is None:
        raise NotFound("classification", classification)
    template = MilestoneTemplate(
        milestone_id=mid, descr=descr, required_conditions=required, classification=classification
    )
    session.add(template)
    for seq, raw in enumerate(conditions, start=1):
        spec = raw.checked(f"milestone template {mid} condition {seq}")
        template.conditions.append(
            ConditionTemplate(
                milestone_id=mid,
                condition_seq=seq,
                ref_milestone_id=spec.ref_milestone_id.upper() if spec.ref_milestone_id else None,
                **spec.stored(),
            )
        )
    session.flush()
    return template


def get_milestone_template(session: Session, milestone_id: str) -> MilestoneTemplate:
    template = session.get(MilestoneTemplate, milestone_id.upper())
    if template is None:
        raise NotFound("milestone template", milestone_id.upper())
    return template


def list_milestone_templates(session: Session) -> list[MilestoneTemplate]:
    return list(session.scalars(select(MilestoneTemplate).order_by(MilestoneTemplate.milestone_id)))
