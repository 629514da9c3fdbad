"""Contract milestones: list (the CLI's filters, paged), show (with "why not complete"), ready, pending,
cancel. Each route authenticates (its right), calls the service the CLI calls, and returns a model."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from contracts import milestones as services
from contracts.keys import ContractKey
from contracts.status import MilestoneStatus
from ms_prcs import views
from ms_prcs.approvals import gates as workflow_gates
from ms_prcs.approvals.hooks import make_milestone_ready
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models import Changed, MilestoneDetail, MilestoneRow, Page
from ms_prcs.service.routes.keys import MILESTONE, MKey
from ms_prcs.service.routes.paging import Limit, Offset

router = APIRouter(tags=["milestones"])


@router.get("/milestones", response_model=Page[MilestoneRow])
def list_milestones(
    caller: Reader,
    ctx: Service,
    contract: str | None = None,
    bu: str | None = None,
    status: MilestoneStatus | None = None,
    gate: str | None = None,
    gate_status: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[MilestoneRow]:
    """Milestones in key order (of one contract ``BU/CONTRACT``, a business unit, or all), like
    ``ms-prcs milestone list``."""
    key = ContractKey.parse(contract) if contract else None
    with ctx.transaction() as session:
        if gate is None and gate_status is None:  # the page is cut in SQL (a gate filter is applied after)
            rows = views.list_milestones(
                session, contract=key, business_unit=bu, status=status, offset=offset, limit=limit
            )
            total = views.count_milestones(session, contract=key, business_unit=bu, status=status)
            page = workflow_gates.annotate_milestones(session, rows)
            return Page[MilestoneRow].window(page, total, offset, limit)
        rows = views.list_milestones(session, contract=key, business_unit=bu, status=status)
        rows = workflow_gates.annotate_milestones(session, rows, gate, gate_status)
    return Page[MilestoneRow].of(rows, offset, limit)


@router.get(MILESTONE, response_model=MilestoneDetail)
def show_milestone(key: MKey, caller: Reader, ctx: Service, as_of: dt.date | None = None) -> MilestoneDetail:
    """A milestone with its conditions, why it is not complete as of ``as_of`` (default today), what
    references it and its status history, like ``ms-prcs milestone show``."""
    with ctx.transaction() as session:
        detail = views.milestone_detail(
            session,
            key,
            as_of=as_of or ctx.today(),
            sql_rules=ctx.settings.sql_rules,
            sql_timeout_s=ctx.settings.sql_timeout_s,
            sql_role=ctx.settings.sql_role,
        )
    return MilestoneDetail.model_validate(detail)


@router.post(f"{MILESTONE}/ready", response_model=Changed)
def ready(key: MKey, caller: Writer, ctx: Service) -> Changed:
    """Set a Pending milestone Ready, after the edit checks (every problem is listed)."""
    with ctx.transaction() as session:
        notes = make_milestone_ready(session, key, caller.who(), ctx.settings.sql_rules)
    return Changed(milestone=str(key), status="Ready", notes=notes, message=f"milestone {key} is Ready")


@router.post(f"{MILESTONE}/pending", response_model=Changed)
def pending(key: MKey, caller: Writer, ctx: Service) -> Changed:
    """Set a Ready milestone back to Pending, so that its conditions can be edited."""
    with ctx.transaction() as session:
        services.set_pending(session, key, caller.who())
    return Changed(milestone=str(key), status="Pending", message=f"milestone {key} is Pending")


@router.post(f"{MILESTONE}/cancel", response_model=Changed)
def cancel(key: MKey, caller: Writer, ctx: Service) -> Changed:
    """Cancel a Pending or Ready milestone; refused while plan events or other milestones reference it."""
    with ctx.transaction() as session:
        services.cancel(session, key, caller.who())
    return Changed(milestone=str(key), status="Cancelled", message=f"milestone {key} is Cancelled")
