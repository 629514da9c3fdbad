"""Contracts: list (``--bu``, ``--gate``, ``--gate-status``, paged), show, and the processing status."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from contracts.status import ContractStatus
from ms_prcs import views
from ms_prcs.approvals import gates as workflow_gates
from ms_prcs.approvals.hooks import change_contract_status
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models import Body, Changed, ContractDetail, ContractRow, Page
from ms_prcs.service.routes.keys import CONTRACT, CKey
from ms_prcs.service.routes.paging import Limit, Offset

router = APIRouter(tags=["contracts"])


class StatusBody(Body):
    status: Literal["pending", "active", "closed"]


@router.get("/contracts", response_model=Page[ContractRow])
def list_contracts(
    caller: Reader,
    ctx: Service,
    bu: str | None = None,
    gate: str | None = None,
    gate_status: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[ContractRow]:
    """Contracts with their line count, amount and milestone count (and stage gate), like ``contract list``."""
    with ctx.transaction() as session:
        if gate is None and gate_status is None:  # the page is cut in SQL (a gate filter is applied after)
            rows = views.list_contracts(session, bu, offset=offset, limit=limit)
            page = workflow_gates.annotate_contracts(session, rows)
            return Page[ContractRow].window(page, views.count_contracts(session, bu), offset, limit)
        rows = workflow_gates.annotate_contracts(
            session, views.list_contracts(session, bu), gate, gate_status
        )
    return Page[ContractRow].of(rows, offset, limit)


@router.get(CONTRACT, response_model=ContractDetail)
def show_contract(key: CKey, caller: Reader, ctx: Service) -> ContractDetail:
    """A contract: fields, attributes, lines and milestones, like ``contract show``."""
    with ctx.transaction() as session:
        return ContractDetail.model_validate(views.contract_detail(session, key))


@router.post(f"{CONTRACT}/status", response_model=Changed)
def set_status(key: CKey, body: StatusBody, caller: Writer, ctx: Service) -> Changed:
    """Set a contract's processing status (pending, active, closed), with the follow-ups of ``contract status``."""
    new = ContractStatus(body.status.capitalize())
    with ctx.transaction() as session:
        notes = change_contract_status(session, key, new, caller.who())
    return Changed(status=new, notes=notes, message=f"contract {key} is {new}")
