"""The work queue (issue 16), as ``ms-prcs queue``: the Ready milestones of a business unit, filtered and
paged (JSON, or CSV with ``?format=csv``), and the mass updates over the same filter or a list of keys, with a
per-item report (``atomic``: all or nothing; ``dry_run``: change nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from contracts.errors import InvalidInput
from contracts.keys import MilestoneKey
from contracts.status import ConditionType, MilestoneStatus
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models_fin import MassOut, MassRequest, QueueFilterIn, QueueOut, SetDateRequest
from ms_prcs.service.routes.reports import REPORT_RESPONSES
from ms_prcs.workqueue import mass, search
from ms_prcs.workqueue.search import QueueFilter

router = APIRouter(tags=["queue"])

Short = Annotated[str | None, Query(min_length=1, max_length=60)]


def _filter(f: QueueFilterIn) -> QueueFilter:
    return _queue_filter(**f.model_dump())


def _queue_filter(business_unit: str, type: str | None, contract: str | None, **fields: Any) -> QueueFilter:
    ctype = ConditionType[type.upper()] if type else None
    return QueueFilter(business_unit=business_unit, condition_type=ctype, contract_num=contract, **fields)


@router.get("/queue", response_class=Response, responses={200: {**REPORT_RESPONSES[200], "model": QueueOut}})
def list_queue(
    caller: Reader,
    ctx: Service,
    bu: Annotated[str, Query(min_length=1, max_length=5)],
    milestone_id: Short = None,
    est_from: dt.date | None = None,
    est_to: dt.date | None = None,
    type: Literal["date", "user", "sql", "milestone"] | None = None,
    contract: Short = None,
    customer: Short = None,
    reason: Short = None,
    as_of: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=search.MAX_PAGE_SIZE)] = 50,
    explain: bool = True,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """A business unit's Ready milestones, a page at a time, with why each is not complete."""
    given = _queue_filter(
        bu, type, contract, milestone_id=milestone_id, est_from=est_from, est_to=est_to, customer=customer,
        reason=reason,
    )  # fmt: skip
    s = ctx.settings
    with ctx.transaction() as session:
        found = search.search(
            session, given, as_of or ctx.today(), page=page, page_size=page_size,
            rules=s.sql_rules, timeout_s=s.sql_timeout_s, explain=explain,
        )  # fmt: skip
    if format == "csv":
        return Response(search.to_csv(found), media_type="text/csv")
    return Response(QueueOut.model_validate(found.to_json()).model_dump_json(), media_type="application/json")


def _keys(body: MassRequest) -> list[str] | None:
    if (body.filter is None) == (body.keys is None):
        raise InvalidInput("give either a filter or a list of keys")
    return None if body.keys is None else mass.read_keys(body.keys)


def _conditions(session: Session, body: MassRequest, ctype: ConditionType, today: dt.date) -> Any:
    keys = _keys(body)
    if keys is not None:
        return [mass.ConditionTarget.parse(k) for k in keys]
    assert body.filter is not None
    return mass.conditions_of(session, _filter(body.filter), body.as_of or today, ctype)


def _milestones(session: Session, body: MassRequest, today: dt.date) -> list[MilestoneKey]:
    keys = _keys(body)
    if keys is not None:
        return [MilestoneKey.parse(k) for k in keys]
    assert body.filter is not None
    return mass.milestones_of(session, _filter(body.filter), body.as_of or today)


def _out(result: mass.MassResult) -> MassOut:
    return MassOut.model_validate(result.to_json())


@router.post("/queue/complete", response_model=MassOut)
def complete(body: MassRequest, caller: Writer, ctx: Service) -> MassOut:
    """Mark Complete the User Initiated conditions of the filtered milestones (or of the ``#SEQ`` keys)."""
    with ctx.transaction() as session:
        targets = _conditions(session, body, ConditionType.USER, ctx.today())
        return _out(
            mass.mark_complete(session, targets, caller.who(), atomic=body.atomic, dry_run=body.dry_run)
        )


@router.post("/queue/set-date", response_model=MassOut)
def set_date(body: SetDateRequest, caller: Writer, ctx: Service) -> MassOut:
    """Assign (``date``) or move (``shift`` days) the dates of Date conditions."""
    with ctx.transaction() as session:
        targets = _conditions(session, body, ConditionType.DATE, ctx.today())
        result = mass.set_condition_dates(
            session, targets, caller.who(), ctx.settings.sql_rules, date=body.date, shift_days=body.shift,
            atomic=body.atomic, dry_run=body.dry_run,
        )  # fmt: skip
        return _out(result)


def _status(body: MassRequest, status: MilestoneStatus, caller: Writer, ctx: Service) -> MassOut:
    with ctx.transaction() as session:
        keys = _milestones(session, body, ctx.today())
        result = mass.set_milestone_status(
            session, keys, status, caller.who(), ctx.settings.sql_rules, atomic=body.atomic,
            dry_run=body.dry_run,
        )  # fmt: skip
        return _out(result)


@router.post("/queue/ready", response_model=MassOut)
def ready(body: MassRequest, caller: Writer, ctx: Service) -> MassOut:
    """Set milestones Ready (edit checks, then due approvals)."""
    return _status(body, MilestoneStatus.READY, caller, ctx)


@router.post("/queue/pending", response_model=MassOut)
def pending(body: MassRequest, caller: Writer, ctx: Service) -> MassOut:
    """Set the filtered (or the listed) milestones Pending."""
    return _status(body, MilestoneStatus.PENDING, caller, ctx)
