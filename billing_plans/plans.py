"""Billing and revenue plans on contract lines: made from a template (with their milestones, auto-readied)
or by hand, set Ready and Pending, and shown.

Plan statuses are PLAN_TRANSITIONS: Pending -> Ready (a person, or the template on contract activation),
Ready -> Pending (a person: a billing plan while every event is still Pending, a revenue plan while none
is Recognized), Ready -> Completed and back (the system,
see :mod:`billing_plans.completion`). Ready needs the contract Active and at least one event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_plans import events as plan_events
from billing_plans.auto_ready import AutoReadyDecision, auto_ready
from billing_plans.completion import completion_gap
from billing_plans.feed import published_cursor
from billing_plans.keys import PlanKey, event_key, get_line, get_plan, plan_key
from billing_plans.shares import describe, plain, share_amount, total_percent
from billing_plans.templates import get_plan_template
from conditions.sql_rules import SqlRules
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import AlreadyExists, EditCheckFailed, InvalidInput, InvalidTransition, RuleViolation
from contracts.keys import ContractKey, get_contract
from contracts.milestones import add_milestone
from contracts.models import Contract, ContractLine, Plan, PlanEvent, PlanTemplate
from contracts.status import (
    PLAN_TRANSITIONS,
    Actor,
    ContractStatus,
    CreatedFrom,
    EventType,
    PlanStatus,
    PlanType,
    RevenueEventStatus,
    move_error,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreatedPlan:
    plan: Plan
    key: PlanKey
    milestones: tuple[AutoReadyDecision, ...]
    readied: bool


def add_plan(
    session: Session,
    contract_key: ContractKey,
    line_num: int,
    plan_type: PlanType,
    plan_id: str,
    who: Who,
    *,
    descr: str = "",
    template_id: str | None = None,
) -> Plan:
    """An empty plan, Pending. Plan ids are unique per contract line whatever their type, so that
    ``BU/CONTRACT/LINE/PLAN_ID`` names one plan."""
    pid = plan_id.strip().upper()
    if not pid:
        raise InvalidInput(f"{plan_type.lower()} plan: a plan id is required")
    line = get_line(session, contract_key, line_num)
    key = PlanKey(contract_key, line_num, pid)
    if session.scalar(select(Plan.id).where(Plan.contract_line_pk == line.id, Plan.plan_id == pid)):
        raise AlreadyExists("plan", str(key))
    plan = Plan(
        contract_line=line,
        plan_type=plan_type,
        plan_id=pid,
        template_id=template_id,
        status=PlanStatus.PENDING,
        descr=descr,
    )
    session.add(plan)
    session.flush()
    why = f"created from template {template_id}" if template_id else "added by user"
    record_change(session, ObjectType.PLAN, plan.id, None, PlanStatus.PENDING, who, why)
    return plan


def create_from_template(
    session: Session,
    contract_key: ContractKey,
    line_num: int,
    template_id: str,
    who: Who,
    rules: SqlRules,
    *,
    plan_id: str | None = None,
) -> CreatedPlan:
    """``plan create``: the plan with the template's events, and for each Milestone event a new contract
    milestone from its milestone template (conditions copied, next ``milestone_num``), auto-readied.

    A template that says "Ready on contract activation" readies the plan and its events at once when the
    contract is already Active (otherwise :func:`ready_on_activation` does it when the contract becomes so).
    """
    template = get_plan_template(session, template_id)
    plan = add_plan(
        session,
        contract_key,
        line_num,
        template.plan_type,
        plan_id or template.template_id,
        who,
        descr=template.descr,
        template_id=template.template_id,
    )
    created_from = (
        CreatedFrom.BILLING_PLAN if template.plan_type == PlanType.BILLING else CreatedFrom.REVENUE_PLAN
    )
    source = f"{template.plan_type.lower()} plan template {template.template_id}"
    decisions: list[AutoReadyDecision] = []
    for spec in template.events:
        milestone = None
        if spec.event_type == EventType.MILESTONE and spec.milestone_id is not None:
            milestone = add_milestone(
                session, contract_key, spec.milestone_id, who, from_template=True, created_from=created_from
            )
            decisions.append(auto_ready(session, milestone, who, rules, source))
        event = PlanEvent(
            plan=plan,
            event_num=spec.event_num,
            event_type=spec.event_type,
            status=plan_events.PENDING,
            milestone=milestone,
            event_date=spec.event_date,
            percentage=spec.percentage,
            amount=spec.amount,
            descr=spec.descr or (milestone.descr if milestone is not None else ""),
        )
        session.add(event)
        session.flush()
        record_change(
            session, ObjectType.PLAN_EVENT, event.id, None, plan_events.PENDING, who, f"created from {source}"
        )
    readied = False
    if template.ready_on_activation and plan.contract_line.contract.status == ContractStatus.ACTIVE:
        readied = _ready_by_template(session, plan, template, who)
    return CreatedPlan(plan, plan_key(plan), tuple(decisions), readied)


def plan_problems(plan: Plan) -> list[str]:
    contract = plan.contract_line.contract
    problems = []
    if contract.status != ContractStatus.ACTIVE:
        problems.append(f"Ready needs the contract Active; contract {contract.key} is {contract.status}")
    if not plan.events:
        problems.append("Ready needs at least one event")
    return problems


def set_plan_ready(session: Session, key: PlanKey, who: Who, *, with_events: bool = False) -> Plan:
    """Pending -> Ready after the checks; with ``with_events`` its Pending events too, all or none (every
    problem of every event is listed)."""
    plan = get_plan(session, key)
    obj = f"{plan.plan_type.lower()} plan {key}"
    _check_move(plan, obj, PlanStatus.READY, Actor.USER)
    problems = plan_problems(plan)
    pending = [e for e in plan.events if e.status == plan_events.PENDING] if with_events else []
    for event in pending:
        problems += [f"event {event.event_num}: {p}" for p in plan_events.event_problems(event, pending)]
    if problems:
        raise EditCheckFailed(obj, problems)
    _move(session, plan, PlanStatus.READY, who, "set Ready by user; edit checks passed")
    plan_events.make_ready(session, pending, who, "set Ready by user with its plan; edit checks passed")
    return plan


def set_plan_pending(session: Session, key: PlanKey, who: Who) -> Plan:
    """Ready -> Pending by hand, without edit checks. A billing plan needs every event Pending (an event
    announced on the feed may be claimed already). A revenue plan needs no event Recognized (PeopleSoft
    allows it, issue 16): its Ready events go back to Pending with it, since nothing is claimed on the
    revenue side and recognition needs a Ready event under a Ready plan."""
    plan = get_plan(session, key)
    obj = f"{plan.plan_type.lower()} plan {key}"
    _check_move(plan, obj, PlanStatus.PENDING, Actor.USER)
    if plan.plan_type == PlanType.REVENUE:
        recognized = [str(e.event_num) for e in plan.events if e.status == RevenueEventStatus.RECOGNIZED]
        if recognized:
            raise RuleViolation(
                obj, f"can be set Pending only while no event is Recognized; events {', '.join(recognized)}"
            )
        ready = [e for e in plan.events if e.status == plan_events.READY]
        _move(session, plan, PlanStatus.PENDING, who, "set Pending by user")
        for event in ready:
            record_change(
                session,
                ObjectType.PLAN_EVENT,
                event.id,
                event.status,
                plan_events.PENDING,
                who,
                "set Pending with its plan by user",
            )
            event.status = plan_events.PENDING
        session.flush()
        return plan
    moved = [f"{e.event_num} ({e.status})" for e in plan.events if e.status != plan_events.PENDING]
    if moved:
        raise RuleViolation(
            obj, f"can be set Pending only while every event is Pending; events {', '.join(moved)}"
        )
    _move(session, plan, PlanStatus.PENDING, who, "set Pending by user")
    return plan


@dataclass(frozen=True)
class ActivationOutcome:
    plan: str
    readied: bool
    reason: str


def ready_on_activation(session: Session, contract_key: ContractKey, who: Who) -> list[ActivationOutcome]:
    """The plans of an Active contract whose template says "Ready on contract activation": each Pending one
    is set Ready with its events that pass their checks. Call it when a contract becomes Active; running it
    again changes nothing."""
    contract = get_contract(session, contract_key)
    if contract.status != ContractStatus.ACTIVE:
        raise RuleViolation(
            f"contract {contract_key}", f"is {contract.status}; plans are readied on activation"
        )
    rows = session.execute(
        select(Plan, PlanTemplate)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .join(PlanTemplate, Plan.template_id == PlanTemplate.template_id)
        .where(
            ContractLine.contract_pk == contract.id,
            Plan.status == PlanStatus.PENDING,
            PlanTemplate.ready_on_activation.is_(True),
        )
        .order_by(ContractLine.line_num, Plan.plan_id)
    ).all()
    outcomes = []
    for plan, template in rows:
        readied = _ready_by_template(session, plan, template, who)
        reason = "Ready on contract activation" if readied else "; ".join(plan_problems(plan))
        outcomes.append(ActivationOutcome(str(plan_key(plan)), readied, reason))
    return outcomes


def _ready_by_template(session: Session, plan: Plan, template: PlanTemplate, who: Who) -> bool:
    """Ready by the template: the plan if it passes its checks, then each Pending event that passes its own
    (an event that does not stays Pending, with the reason recorded)."""
    if plan_problems(plan):
        return False
    reason = (
        f"Ready on contract activation ({template.plan_type.lower()} plan template {template.template_id})"
    )
    _move(session, plan, PlanStatus.READY, who, reason)
    ready: list[PlanEvent] = []
    for event in plan.events:
        if event.status != plan_events.PENDING:
            continue
        problems = plan_events.event_problems(event, ready)
        if problems:
            record_change(
                session,
                ObjectType.PLAN_EVENT,
                event.id,
                event.status,
                event.status,
                who,
                f"{reason}: stays Pending, " + "; ".join(problems),
            )
        else:
            ready.append(event)
    plan_events.make_ready(session, ready, who, reason)
    return True


def list_plans(session: Session, contract_key: ContractKey | None = None) -> list[Plan]:
    query = (
        select(Plan)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .join(Contract, ContractLine.contract_pk == Contract.id)
        .order_by(Contract.business_unit, Contract.contract_num, ContractLine.line_num, Plan.plan_id)
    )
    if contract_key is not None:
        query = query.where(Contract.id == get_contract(session, contract_key).id)
    return list(session.scalars(query))


def plan_summary(session: Session, plan: Plan) -> dict[str, Any]:
    """A plan, its events (with their milestones and feed cursors) and why it is not Completed yet."""
    line = plan.contract_line
    shares = [(e.percentage, e.amount) for e in plan.events]
    return {
        "plan": str(plan_key(plan)),
        "plan_type": plan.plan_type.value,
        "status": plan.status.value,
        "template_id": plan.template_id,
        "descr": plan.descr,
        "line_amount": line.amount,
        "currency": line.contract.currency,
        "total_percentage": plain(total_percent(line.amount, shares)),
        "not_completed_because": completion_gap(plan) if plan.status != PlanStatus.COMPLETED else None,
        "events": [event_summary(session, e) for e in plan.events],
    }


def event_summary(session: Session, event: PlanEvent) -> dict[str, Any]:
    line_amount = event.plan.contract_line.amount
    return {
        "event": str(event_key(event)),
        "event_num": event.event_num,
        "event_type": event.event_type.value,
        "status": event.status,
        "milestone": event.milestone.key if event.milestone is not None else None,
        "milestone_status": event.milestone.status.value if event.milestone is not None else None,
        "event_date": event.event_date,
        "share": describe(event.percentage, event.amount),
        "amount": share_amount(line_amount, event.percentage, event.amount).quantize(CENT),
        "feed_cursor": published_cursor(session, event.id),
        "descr": event.descr,
    }


def _check_move(plan: Plan, obj: str, new: PlanStatus, actor: Actor) -> None:
    problem = move_error(PLAN_TRANSITIONS, plan.status, new, actor)
    if problem:
        raise InvalidTransition(obj, plan.status, new, problem)


def _move(session: Session, plan: Plan, new: PlanStatus, who: Who, reason: str) -> None:
    record_change(session, ObjectType.PLAN, plan.id, plan.status, new, who, reason)
    plan.status = new
    session.flush()
