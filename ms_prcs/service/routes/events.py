"""Plan events: ready and pending (people), and the downstream side: bill (the billing system that claimed
the event on the feed), recognize and reverse (revenue). One shape, one service each, as in the CLI."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.orm import Session

from billing_plans import events as event_services
from billing_plans.keys import EventKey
from contracts.audit import Who
from contracts.models import PlanEvent
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.deps import FeedReader, Service, Writer
from ms_prcs.service.models_ops import EventMoved
from ms_prcs.service.routes.keys import EVENT, EKey

router = APIRouter(tags=["events"])

Move = Callable[[Session, EventKey, Who], tuple[PlanEvent, bool]]


def _simple(service: Callable[[Session, EventKey, Who], PlanEvent]) -> Move:
    return lambda session, key, who: (service(session, key, who), False)


def _downstream(service: Callable[[Session, EventKey, Who], event_services.EventMove]) -> Move:
    def move(session: Session, key: EventKey, who: Who) -> tuple[PlanEvent, bool]:
        done = service(session, key, who)
        return done.event, done.plan_completed

    return move


def moved(ctx: ServiceContext, key: EventKey, who: Who, move: Move) -> EventMoved:
    with ctx.transaction() as session:
        row, plan_completed = move(session, key, who)
        obj, status = event_services.describe(row), row.status
    also = f"; plan {key.plan} is Completed" if plan_completed else ""
    return EventMoved(
        event=str(key), status=status, plan_completed=plan_completed, message=f"{obj} is {status}{also}"
    )


@router.post(f"{EVENT}/ready", response_model=EventMoved)
def ready(key: EKey, caller: Writer, ctx: Service) -> EventMoved:
    """Set a Pending event Ready (its plan Ready; milestone or date, and share checked)."""
    return moved(ctx, key, caller.who(), _simple(event_services.set_event_ready))


@router.post(f"{EVENT}/pending", response_model=EventMoved)
def pending(key: EKey, caller: Writer, ctx: Service) -> EventMoved:
    """Set a Ready event back to Pending (not once it was announced on the feed)."""
    return moved(ctx, key, caller.who(), _simple(event_services.set_event_pending))


@router.post(f"{EVENT}/bill", response_model=EventMoved)
def bill(key: EKey, caller: FeedReader, ctx: Service) -> EventMoved:
    """Billing system: a claimed (In Progress) billing event was billed."""
    return moved(ctx, key, caller.who(), _downstream(event_services.bill))


@router.post(f"{EVENT}/recognize", response_model=EventMoved)
def recognize(key: EKey, caller: FeedReader, ctx: Service) -> EventMoved:
    """Revenue system: recognize an eligible (Ready, announced) revenue event."""
    return moved(ctx, key, caller.who(), _downstream(event_services.recognize))


@router.post(f"{EVENT}/reverse", response_model=EventMoved)
def reverse(key: EKey, caller: FeedReader, ctx: Service) -> EventMoved:
    """Revenue system: reverse a Recognized revenue event (final)."""
    return moved(ctx, key, caller.who(), _downstream(event_services.reverse))
