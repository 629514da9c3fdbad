"""Billing and revenue plan templates: events that become a plan (and its milestones) on a contract line.

A Milestone event names a milestone template; creating a plan from the template creates a contract
milestone from it. A Date event carries its date. Every event is worth a percentage of the line or an
amount. A template is complete when written: plans made from it only copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_plans.shares import HUNDRED, check_share, describe, parse_share, plain
from contracts.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from contracts.keys import parse_date
from contracts.models import MilestoneTemplate, PlanTemplate, PlanTemplateEvent
from contracts.status import EventType, PlanType


@dataclass(frozen=True)
class TemplateEventSpec:
    event_type: EventType
    milestone_id: str | None = None
    event_date: dt.date | None = None
    percentage: Decimal | None = None
    amount: Decimal | None = None
    descr: str = ""

    @classmethod
    def parse(cls, text: str) -> TemplateEventSpec:
        """``MS001=40%`` (a Milestone event on milestone template MS001 worth 40 % of the line) or
        ``2026-12-31=1500.00`` (a Date event worth 1500.00): the compact form of ``--event``."""
        target, sep, value = text.partition("=")
        if not sep or not target.strip() or not value.strip():
            raise InvalidInput(
                f"event {text!r} is not of the form MILESTONE_ID=SHARE or YYYY-MM-DD=SHARE"
                " (SHARE: 40% or 1500.00)"
            )
        percentage, amount = parse_share(value, f"event {text!r}")
        target = target.strip()
        if target[:1].isdigit():
            when = parse_date(target, f"event {text!r} date")
            return cls(EventType.DATE, event_date=when, percentage=percentage, amount=amount)
        return cls(EventType.MILESTONE, milestone_id=target.upper(), percentage=percentage, amount=amount)


def add_plan_template(
    session: Session,
    template_id: str,
    plan_type: PlanType,
    *,
    descr: str = "",
    ready_on_activation: bool = False,
    events: Sequence[TemplateEventSpec] = (),
) -> PlanTemplate:
    """Add a template with its events, numbered from 1 in the order given; refused whole on any bad event."""
    tid = template_id.strip().upper()
    kind = f"{plan_type.lower()} plan template"
    if not tid:
        raise InvalidInput(f"{kind}: a template id is required")
    if session.get(PlanTemplate, tid) is not None:
        raise AlreadyExists("plan template", tid)
    if not events:
        raise InvalidInput(f"{kind} {tid}: a template needs at least one event")
    template = PlanTemplate(
        template_id=tid, plan_type=plan_type, descr=descr, ready_on_activation=ready_on_activation
    )
    for num, spec in enumerate(events, start=1):
        template.events.append(_template_event(session, f"{kind} {tid} event {num}", tid, num, spec))
    total = sum((e.percentage for e in template.events if e.percentage is not None), Decimal(0))
    if total > HUNDRED:
        raise RuleViolation(f"{kind} {tid}", f"events total {plain(total)} %, more than 100 %")
    session.add(template)
    session.flush()
    return template


def _template_event(
    session: Session, obj: str, tid: str, num: int, spec: TemplateEventSpec
) -> PlanTemplateEvent:
    check_share(obj, spec.percentage, spec.amount, required=True)
    milestone_id = spec.milestone_id.upper() if spec.milestone_id else None
    if spec.event_type == EventType.MILESTONE:
        if milestone_id is None:
            raise InvalidInput(f"{obj}: a Milestone event needs a milestone template")
        if spec.event_date is not None:
            raise InvalidInput(f"{obj}: a Milestone event has no date")
        if session.get(MilestoneTemplate, milestone_id) is None:
            raise NotFound("milestone template", milestone_id)
    else:
        if spec.event_date is None:
            raise InvalidInput(f"{obj}: a Date event needs a date")
        if milestone_id is not None:
            raise InvalidInput(f"{obj}: a Date event has no milestone")
    return PlanTemplateEvent(
        template_id=tid,
        event_num=num,
        event_type=spec.event_type,
        milestone_id=milestone_id,
        event_date=spec.event_date,
        percentage=spec.percentage,
        amount=spec.amount,
        descr=spec.descr,
    )


def get_plan_template(session: Session, template_id: str, plan_type: PlanType | None = None) -> PlanTemplate:
    tid = template_id.strip().upper()
    template = session.get(PlanTemplate, tid)
    if template is None or (plan_type is not None and template.plan_type != plan_type):
        kind = f"{plan_type.lower()} plan template" if plan_type else "plan template"
        raise NotFound(kind, tid)
    return template


def list_plan_templates(session: Session, plan_type: PlanType | None = None) -> list[PlanTemplate]:
    query = select(PlanTemplate).order_by(PlanTemplate.template_id)
    if plan_type is not None:
        query = query.where(PlanTemplate.plan_type == plan_type)
    return list(session.scalars(query))


def template_summary(template: PlanTemplate) -> dict[str, Any]:
    """One template as fields and events, the same for tables and JSON."""
    total = sum((e.percentage for e in template.events if e.percentage is not None), Decimal(0))
    amounts = sum((e.amount for e in template.events if e.amount is not None), Decimal(0))
    return {
        "template_id": template.template_id,
        "plan_type": template.plan_type.value,
        "descr": template.descr,
        "ready_on_activation": template.ready_on_activation,
        "events_count": len(template.events),
        "total_percentage": plain(total),
        "total_amount": amounts,
        "events": [
            {
                "event_num": e.event_num,
                "event_type": e.event_type.value,
                "milestone_id": e.milestone_id,
                "event_date": e.event_date,
                "percentage": e.percentage,
                "amount": e.amount,
                "share": describe(e.percentage, e.amount),
                "descr": e.descr,
            }
            for e in template.events
        ],
    }
