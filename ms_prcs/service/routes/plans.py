"""Billing and revenue plans: list, show, create from a template, ready, pending, and reverse (issue 16:
undo every Recognized or Billed event of the plan)."""

from __future__ import annotations

from fastapi import APIRouter

from billing_plans import events as event_services
from billing_plans import plans as plan_services
from billing_plans.keys import get_plan
from contracts.keys import ContractKey
from ms_prcs.approvals import hooks
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models import Changed, Page
from ms_prcs.service.models_fin import PlanUndone
from ms_prcs.service.models_ops import CreatedPlan, PlanFromTemplate, PlanReady, PlanSummary
from ms_prcs.service.routes.keys import PLAN, PKey
from ms_prcs.service.routes.paging import Limit, Offset

router = APIRouter(tags=["plans"])


@router.get("/plans", response_model=Page[PlanSummary])
def list_plans(
    caller: Reader, ctx: Service, contract: str | None = None, offset: Offset = 0, limit: Limit = 100
) -> Page[PlanSummary]:
    """Plans (of one contract ``BU/CONTRACT``, or all) with their events."""
    key = ContractKey.parse(contract) if contract else None
    with ctx.transaction() as session:
        found = plan_services.list_plans(session, key)[offset : offset + limit + 1]
        rows = [PlanSummary.model_validate(plan_services.plan_summary(session, p)) for p in found]
    return Page[PlanSummary](
        items=rows[:limit],
        total=offset + len(rows),
        offset=offset,
        limit=limit,
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.get(PLAN, response_model=PlanSummary)
def show_plan(key: PKey, caller: Reader, ctx: Service) -> PlanSummary:
    """A plan, its events (milestones, feed cursors) and why it is not Completed yet."""
    with ctx.transaction() as session:
        return PlanSummary.model_validate(plan_services.plan_summary(session, get_plan(session, key)))


@router.post("/plans", response_model=CreatedPlan, status_code=201)
def create_plan(body: PlanFromTemplate, caller: Writer, ctx: Service) -> CreatedPlan:
    """A plan on a contract line from a template, with its events and milestones (auto-readied), like
    ``plan create --template``."""
    contract, who = ContractKey.parse(body.contract), caller.who()
    with ctx.transaction() as session:
        created = hooks.create_plan_from_template(
            session, contract, body.line, body.template, who, ctx.settings.sql_rules, plan_id=body.plan_id
        )
        hooks.after_amount_change(session, contract, who)
        summary = plan_services.plan_summary(session, created.plan)
    decisions = [
        {"milestone": d.milestone, "status": d.status, "reason": d.reason} for d in created.milestones
    ]
    return CreatedPlan.model_validate({**summary, "milestones": decisions})


@router.post(f"{PLAN}/ready", response_model=Changed)
def ready(key: PKey, body: PlanReady, caller: Writer, ctx: Service) -> Changed:
    """Set a plan Ready (its contract Active, at least one event); ``events``: its Pending events too."""
    with ctx.transaction() as session:
        row = plan_services.set_plan_ready(session, key, caller.who(), with_events=body.events)
        kind, status = row.plan_type.lower(), row.status
    return Changed(status=status, message=f"{kind} plan {key} is Ready")


@router.post(f"{PLAN}/pending", response_model=Changed)
def pending(key: PKey, caller: Writer, ctx: Service) -> Changed:
    """Set a Ready plan back to Pending (only while every event is Pending)."""
    with ctx.transaction() as session:
        row = plan_services.set_plan_pending(session, key, caller.who())
        kind, status = row.plan_type.lower(), row.status
    return Changed(status=status, message=f"{kind} plan {key} is Pending")


@router.post(f"{PLAN}/reverse", response_model=PlanUndone)
def reverse(key: PKey, caller: Writer, ctx: Service) -> PlanUndone:
    """Reverse every Recognized event of a revenue plan, or credit every Billed event of a billing plan."""
    with ctx.transaction() as session:
        undo = event_services.undo_plan(session, key, caller.who())
    return PlanUndone(
        plan=undo.plan,
        status=undo.status,
        events=list(undo.events),
        plan_reopened=undo.plan_reopened,
        feed_entries=undo.feed_entries,
        message=undo.message,
    )
