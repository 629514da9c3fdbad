"""Plan events: ready and pending (people), and the downstream side: bill (the billing system that claimed
the event on the feed), recognize and reverse (revenue); the corrections of issue 16: credit a billed event,
replace a Reversed or Credited one. One shape, one service each, as in the CLI."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.orm import Session

from billing_plans import events as event_services
from billing_plans.keys import EventKey, event_key
from contracts.audit import Who
from contracts.models import PlanEvent
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.deps import FeedReader, Service, Writer
from ms_prcs.service.models_fin import Replacement
from ms_prcs.service.models_ops import EventMoved
from ms_prcs.service.routes.keys import EVENT, EKey

router = APIRouter(tags=["events"])

Move = Callable[[Session, EventKey, Who], event_services.EventMove]


def _simple(service: Callable[[Session, EventKey, Who], PlanEvent]) -> Move:
    return lambda session, key, who: event_services.EventMove.of(service(session, key, who))


def moved(ctx: ServiceContext, key: EventKey, who: Who, move: Move) -> EventMoved:
    with ctx.transaction() as session:
        done = move(session, key, who)
    return EventMoved(
        event=done.event,
        status=done.status,
        plan_completed=done.plan_completed,
        plan_reopened=done.plan_reopened,
        feed_entries=done.feed_entries,
        message=done.message,
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
    return moved(ctx, key, caller.who(), event_services.bill)


@router.post(f"{EVENT}/recognize", response_model=EventMoved)
def recognize(key: EKey, caller: FeedReader, ctx: Service) -> EventMoved:
    """Revenue system: recognize an eligible (Ready, announced) revenue event."""
    return moved(ctx, key, caller.who(), event_services.recognize)


@router.post(f"{EVENT}/reverse", response_model=EventMoved)
def reverse(key: EKey, caller: FeedReader, ctx: Service) -> EventMoved:
    """Revenue system: reverse a Recognized revenue event, also of a Completed plan (final; a reversal
    entry on the feed; ``replace`` adds the replacement)."""
    return moved(ctx, key, caller.who(), event_services.reverse)


@router.post(f"{EVENT}/credit", response_model=EventMoved)
def credit(key: EKey, caller: Writer, ctx: Service) -> EventMoved:
    """Credit a Billed billing event (final; a credit entry on the feed, the billed event is not edited)."""
    return moved(ctx, key, caller.who(), event_services.credit)


@router.post(f"{EVENT}/replace", response_model=Replacement, status_code=201)
def replace(key: EKey, caller: Writer, ctx: Service) -> Replacement:
    """Add a Pending event like a Reversed or Credited one (type, milestone, date, share)."""
    with ctx.transaction() as session:
        row = event_services.add_replacement(session, key, caller.who())
        new, obj = str(event_key(row)), event_services.describe(row)
    text = f"{obj} added (Pending), replacing event {key.event_num}"
    return Replacement(event=new, replaces=str(key), status="Pending", message=text)
