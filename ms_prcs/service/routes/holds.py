"""Holds (issue 16): put a contract, plan or event on hold, release it by id, list them, as ``ms-prcs hold``
does; one call of :mod:`billing_plans.holds` each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from billing_plans import holds as hold_services
from billing_plans.holds import HoldTarget
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models_fin import HoldOut, HoldRequest, Released, ReleaseRequest

router = APIRouter(tags=["holds"])

HoldId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/holds", response_model=HoldOut, status_code=201)
def put_on_hold(body: HoldRequest, caller: Writer, ctx: Service) -> HoldOut:
    """Hold a contract (``BU/CONTRACT``), plan (``.../LINE/PLAN_ID``) or event (``.../EVENT_NUM``)."""
    target = HoldTarget.parse(body.kind, body.key)
    with ctx.transaction() as session:
        view = hold_services.put_on_hold(session, target, caller.who(), body.reason, one_cycle=body.one_cycle)
    return HoldOut.model_validate(view.as_dict())


@router.post("/holds/{hold_id}/release", response_model=Released)
def release(hold_id: HoldId, body: ReleaseRequest, caller: Writer, ctx: Service) -> Released:
    """Release a hold and announce on the feed, once, what became eligible during it."""
    with ctx.transaction() as session:
        done = hold_services.release_hold(
            session, hold_id, caller.who(), as_of=body.as_of or ctx.today(), reason=body.reason
        )
    text = (
        f"{done.hold.kind} {done.hold.key}: hold {hold_id} released; {done.announced} feed entries announced"
    )
    return Released(hold=HoldOut.model_validate(done.hold.as_dict()), announced=done.announced, message=text)


@router.get("/holds", response_model=list[HoldOut])
def list_holds(
    caller: Reader,
    ctx: Service,
    all: bool = False,
    bu: Annotated[str | None, Query(min_length=1, max_length=5)] = None,
) -> list[HoldOut]:
    """Active holds (``all``: released ones too), oldest first; ``bu``: of one business unit."""
    with ctx.transaction() as session:
        views = hold_services.list_holds(session, include_released=all, business_unit=bu)
        return [HoldOut.model_validate(v.as_dict()) for v in views]
