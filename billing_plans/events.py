"""Plan events by hand and their statuses (DESIGN 2).

Billing: Pending -> Ready (a person, or the template) -> In Progress (a billing consumer's feed ack)
-> Billed. Revenue: Pending -> Ready -> Recognized, or Reversed (final, never reused). The moves are the
tables of :mod:`contracts.status`; this module adds the edit checks and the feed.

Two rules beyond the tables, both for exactly-once billing:

- An event is Ready only under a Ready plan (and a plan is Ready only on an Active contract), so nothing
  reaches billing from a contract that is not Active.
- Once an event has been announced on the feed as eligible it cannot go back to Pending: a consumer may
  already be acting on it, and the announcement is never repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_plans import feed
from billing_plans.completion import complete_if_done, reopen_if_short
from billing_plans.hold_scope import describe_hold, hold_on_event
from billing_plans.keys import EventKey, PlanKey, event_key, get_event, get_plan
from billing_plans.shares import check_share, compare_to_whole
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import EditCheckFailed, InvalidInput, InvalidTransition, RuleViolation
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import FeedKind, Milestone, Plan, PlanEvent
from contracts.status import (
    BILLING_EVENT_TRANSITIONS,
    REVENUE_EVENT_TRANSITIONS,
    Actor,
    BillingEventStatus,
    EventType,
    MilestoneStatus,
    PlanStatus,
    PlanType,
    RevenueEventStatus,
    move_error,
)

PENDING = BillingEventStatus.PENDING.value
READY = BillingEventStatus.READY.value
_NOT_COUNTED = frozenset({PENDING, RevenueEventStatus.REVERSED.value, BillingEventStatus.CREDITED.value})


def describe(event: PlanEvent) -> str:
    """``billing plan event US001/K1000/1/BP-STD/2``: how messages name an event."""
    return f"{event.plan.plan_type.lower()} plan event {event_key(event)}"


def add_event(
    session: Session,
    key: PlanKey,
    who: Who,
    *,
    event_type: EventType,
    milestone: MilestoneKey | None = None,
    event_date: dt.date | None = None,
    percentage: Decimal | None = None,
    amount: Decimal | None = None,
    descr: str = "",
) -> PlanEvent:
    """Add the next event of a plan, Pending. A Milestone event points at an existing milestone of the
    plan's contract; what is missing (milestone, date, share) is reported when it is set Ready."""
    plan = get_plan(session, key)
    obj = f"{plan.plan_type.lower()} plan {key}"
    if plan.status == PlanStatus.COMPLETED:
        raise RuleViolation(obj, "is Completed; no events can be added")
    num = 1 + max((e.event_num for e in plan.events), default=0)
    event = PlanEvent(event_num=num, event_type=event_type, status=PENDING, descr=descr)
    plan.events.append(event)  # into the session now: the lookups below autoflush
    _set_fields(session, event, obj=f"{obj} event {num}", milestone=milestone, event_date=event_date)
    check_share(f"{obj} event {num}", percentage, amount, required=False)
    event.percentage, event.amount = percentage, amount
    session.flush()
    record_change(session, ObjectType.PLAN_EVENT, event.id, None, PENDING, who, "added by user")
    return event


def update_event(
    session: Session,
    key: EventKey,
    who: Who,
    *,
    milestone: MilestoneKey | None = None,
    event_date: dt.date | None = None,
    percentage: Decimal | None = None,
    amount: Decimal | None = None,
    descr: str | None = None,
) -> PlanEvent:
    """Change a Pending event's milestone, date, share or description (a share replaces the other kind)."""
    event = get_event(session, key)
    obj = describe(event)
    if event.status != PENDING:
        raise RuleViolation(obj, f"can be changed only while Pending; it is {event.status}")
    _set_fields(session, event, obj=obj, milestone=milestone, event_date=event_date)
    if percentage is not None or amount is not None:
        check_share(obj, percentage, amount, required=True)
        event.percentage, event.amount = percentage, amount
    if descr is not None:
        event.descr = descr
    session.flush()
    return event


def _set_fields(
    session: Session,
    event: PlanEvent,
    *,
    obj: str,
    milestone: MilestoneKey | None,
    event_date: dt.date | None,
) -> None:
    """Set what is given (``None`` keeps what the event has), refusing fields of the other event type."""
    contract = event.plan.contract_line.contract
    if event.event_type == EventType.MILESTONE:
        if event_date is not None:
            raise InvalidInput(f"{obj}: a Milestone event has no date")
        if milestone is not None:
            ref = get_milestone(session, milestone)
            if ref.contract_pk != contract.id:
                raise RuleViolation(
                    obj, f"milestone {milestone} is not on the plan's contract {contract.key}"
                )
            if ref.status == MilestoneStatus.CANCELLED:
                raise RuleViolation(obj, f"milestone {milestone} is Cancelled")
            event.milestone = ref
    else:
        if milestone is not None:
            raise InvalidInput(f"{obj}: a Date event has no milestone")
        if event_date is not None:
            event.event_date = event_date


def event_problems(event: PlanEvent, readying: Iterable[PlanEvent] = ()) -> list[str]:
    """What keeps ``event`` from Ready, besides its plan's status: the milestone (id and number) or the
    date, the percentage or amount, and the plan's total staying within 100 % with ``readying`` (events set
    Ready in the same breath) counted too."""
    problems: list[str] = []
    if event.event_type == EventType.MILESTONE:
        ref: Milestone | None = event.milestone
        if ref is None:
            problems.append("a Milestone event needs a milestone id and number")
        elif ref.status == MilestoneStatus.CANCELLED:
            problems.append(f"milestone {ref.key} is Cancelled")
    elif event.event_date is None:
        problems.append("a Date event needs a date")
    if event.percentage is None and event.amount is None:
        problems.append("an event needs a percentage or an amount")
    together = {e.id for e in readying} | {event.id}
    counted = [
        (e.percentage, e.amount)
        for e in event.plan.events
        if e.status not in _NOT_COUNTED or e.id in together
    ]
    if compare_to_whole(event.plan.contract_line.amount, counted) > 0:
        problems.append("the plan's Ready and later events would total more than 100 % of the line")
    return problems


def set_event_ready(session: Session, key: EventKey, who: Who) -> PlanEvent:
    """Pending -> Ready by a person, after the edit checks. An event whose milestone is already Completed
    is eligible at once and announced on the feed in the same transaction."""
    event = get_event(session, key)
    _check_move(event, READY, Actor.USER)
    problems = _plan_problems(event.plan) + event_problems(event)
    if problems:
        raise EditCheckFailed(describe(event), problems)
    make_ready(session, [event], who, "set Ready by user; edit checks passed")
    return event


def make_ready(session: Session, events: Sequence[PlanEvent], who: Who, reason: str) -> int:
    """Set checked events Ready with ``reason`` and announce those already eligible; returns how many
    entries were appended to the feed."""
    for event in events:
        record_change(session, ObjectType.PLAN_EVENT, event.id, event.status, READY, who, reason)
        event.status = READY
    session.flush()
    if not any(e.milestone is not None and e.milestone.status == MilestoneStatus.COMPLETED for e in events):
        return 0  # nothing eligible yet: do not take the feed lock for nothing
    return feed.publish_eligible_events(
        session.connection(),
        select(PlanEvent.id).where(PlanEvent.id.in_([e.id for e in events])),
        as_of=who.at.date(),
        at=who.at,
    )


def set_event_pending(session: Session, key: EventKey, who: Who) -> PlanEvent:
    event = get_event(session, key)
    _check_move(event, PENDING, Actor.USER)
    cursor = feed.published_cursor(session, event.id)
    if cursor is not None:
        raise RuleViolation(
            describe(event),
            f"was announced as eligible on the feed (cursor {cursor}); it can no longer be set Pending",
        )
    _move(session, event, PENDING, who, "set Pending by user")
    return event


@dataclass(frozen=True)
class EventMove:
    """What a move did, as plain values (read inside the transaction), so the CLI and the service render the
    same data and the same message."""

    event: str
    """The event's key, ``BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM``."""
    plan: str
    described: str
    """How messages name it (:func:`describe`)."""
    status: str
    plan_completed: bool
    plan_reopened: bool = False
    """A reversal or credit took the plan out of Completed (it is Ready again)."""
    feed_entries: int = 0

    @classmethod
    def of(
        cls,
        event: PlanEvent,
        plan_completed: bool = False,
        plan_reopened: bool = False,
        feed_entries: int = 0,
    ) -> EventMove:
        key = event_key(event)
        return cls(
            str(key),
            str(key.plan),
            describe(event),
            event.status,
            plan_completed,
            plan_reopened,
            feed_entries,
        )

    @property
    def message(self) -> str:
        also = f"; plan {self.plan} is Completed" if self.plan_completed else ""
        also += f"; plan {self.plan} left Completed (Ready)" if self.plan_reopened else ""
        return f"{self.described} is {self.status}{also}"


def bill(session: Session, key: EventKey, who: Who) -> EventMove:
    """In Progress -> Billed: the billing system that claimed the event (``feed ack``) reports it billed."""
    event = _typed_event(session, key, PlanType.BILLING, "billed")
    _check_move(event, BillingEventStatus.BILLED, Actor.CONSUMER)
    _refuse_if_held(session, event, "billed")
    _move(session, event, BillingEventStatus.BILLED, who, "billed")
    completed = complete_if_done(session, event.plan, who)
    return EventMove.of(event, completed)


def recognize(session: Session, key: EventKey, who: Who) -> EventMove:
    """Ready -> Recognized, once the event is eligible (announced on the feed)."""
    event = _typed_event(session, key, PlanType.REVENUE, "recognized")
    _check_move(event, RevenueEventStatus.RECOGNIZED, Actor.CONSUMER)
    _refuse_if_held(session, event, "recognized")
    if feed.published_cursor(session, event.id) is None:
        waiting = (
            f"its milestone {event.milestone.key} is {event.milestone.status}"
            if event.milestone is not None
            else f"no run has reached its date {event.event_date} yet"
        )
        raise RuleViolation(describe(event), f"is not eligible for recognition: {waiting}")
    _move(session, event, RevenueEventStatus.RECOGNIZED, who, "recognized")
    completed = complete_if_done(session, event.plan, who)
    return EventMove.of(event, completed)


def reverse(session: Session, key: EventKey, who: Who) -> EventMove:
    """Recognized -> Reversed, final: the event no longer counts toward the plan's 100 %, the reversal is a
    ``revenue_event_reversed`` feed entry of its own (the amount negated), and a Completed plan leaves
    Completed so that a replacement event (:func:`add_replacement`) can be added. Allowed on a Completed
    plan: revenue recognized in error is corrected after the plan closed (issue 16)."""
    event = _typed_event(session, key, PlanType.REVENUE, "reversed")
    _check_move(event, RevenueEventStatus.REVERSED, Actor.CONSUMER)
    return _undo(
        session, [event], RevenueEventStatus.REVERSED, FeedKind.REVENUE_EVENT_REVERSED, who, "reversed"
    )


def credit(session: Session, key: EventKey, who: Who) -> EventMove:
    """Billed -> Credited, final: the billed event is not edited; a ``billing_event_credited`` entry (the
    amount negated) tells the billing system to issue the credit, the event stops counting, and a Completed
    plan leaves Completed so that a replacement event can be billed."""
    event = _typed_event(session, key, PlanType.BILLING, "credited")
    _check_move(event, BillingEventStatus.CREDITED, Actor.USER)
    return _undo(
        session, [event], BillingEventStatus.CREDITED, FeedKind.BILLING_EVENT_CREDITED, who, "credited"
    )


UNDO: dict[PlanType, tuple[str, str, FeedKind, str]] = {
    PlanType.REVENUE: ("Recognized", "Reversed", FeedKind.REVENUE_EVENT_REVERSED, "reversed"),
    PlanType.BILLING: ("Billed", "Credited", FeedKind.BILLING_EVENT_CREDITED, "credited"),
}
"""Per plan type: the done status an undo applies to, the final status it sets, its feed entry, the verb."""


@dataclass(frozen=True)
class PlanUndo:
    """What :func:`undo_plan` did, as plain values."""

    plan: str
    status: str
    events: tuple[str, ...]
    plan_reopened: bool
    feed_entries: int

    @property
    def message(self) -> str:
        also = "; it left Completed (Ready)" if self.plan_reopened else ""
        return f"plan {self.plan}: events {', '.join(self.events)} undone, {self.feed_entries} feed entries{also}"


def undo_plan(session: Session, key: PlanKey, who: Who) -> PlanUndo:
    """Reverse every Recognized event of a revenue plan, or credit every Billed event of a billing plan, in
    one transaction (one feed entry each). Refused when there is nothing to undo."""
    plan = get_plan(session, key)
    done, new, kind, verb = UNDO[plan.plan_type]
    targets = [e for e in plan.events if e.status == done]
    if not targets:
        raise RuleViolation(f"{plan.plan_type.lower()} plan {key}", f"has no {done} events to be {verb}")
    move = _undo(session, targets, new, kind, who, f"{verb} with its plan")
    undone = tuple(str(event_key(e)) for e in targets)
    return PlanUndo(str(key), plan.status.value, undone, move.plan_reopened, move.feed_entries)


def add_replacement(session: Session, key: EventKey, who: Who) -> PlanEvent:
    """A new Pending event with the type, milestone, date and share of a Reversed or Credited one: the
    correction that follows an undo (the undone event itself is never reused)."""
    old = get_event(session, key)
    if old.status not in (RevenueEventStatus.REVERSED.value, BillingEventStatus.CREDITED.value):
        raise RuleViolation(describe(old), f"is {old.status}; only a Reversed or Credited event is replaced")
    milestone = None
    if old.milestone is not None:
        m = old.milestone
        milestone = MilestoneKey.parse(m.key)
    return add_event(
        session,
        key.plan,
        who,
        event_type=old.event_type,
        milestone=milestone,
        event_date=old.event_date,
        percentage=old.percentage,
        amount=old.amount,
        descr=old.descr or f"replaces event {old.event_num}",
    )


def _undo(
    session: Session, targets: Sequence[PlanEvent], new: str, kind: FeedKind, who: Who, reason: str
) -> EventMove:
    for event in targets:
        record_change(session, ObjectType.PLAN_EVENT, event.id, event.status, new, who, reason)
        event.status = new
    session.flush()
    entries = feed.publish_undo(
        session.connection(),
        select(PlanEvent.id).where(PlanEvent.id.in_([e.id for e in targets])),
        kind,
        as_of=who.at.date(),
        at=who.at,
    )
    plan = targets[0].plan
    listed = ", ".join(str(e.event_num) for e in targets)
    reopened = reopen_if_short(
        session, plan, who, f"event {listed} {reason}; the plan no longer totals 100 %"
    )
    return EventMove.of(targets[-1], False, reopened, entries)


def _refuse_if_held(session: Session, event: PlanEvent, verb: str) -> None:
    hold = hold_on_event(session, event)
    if hold is not None:
        raise RuleViolation(
            describe(event), f"is {describe_hold(hold)}; it cannot be {verb} until the hold is released"
        )


def _plan_problems(plan: Plan) -> list[str]:
    if plan.status != PlanStatus.READY:
        return [f"its plan is {plan.status}; an event is Ready only under a Ready plan"]
    return []


def _typed_event(session: Session, key: EventKey, plan_type: PlanType, verb: str) -> PlanEvent:
    event = get_event(session, key)
    if event.plan.plan_type != plan_type:
        raise RuleViolation(describe(event), f"only {plan_type.lower()} plan events are {verb}")
    return event


def _check_move(event: PlanEvent, new: str, actor: Actor) -> None:
    problem = (
        move_error(
            BILLING_EVENT_TRANSITIONS, BillingEventStatus(event.status), BillingEventStatus(new), actor
        )
        if event.plan.plan_type == PlanType.BILLING
        else move_error(
            REVENUE_EVENT_TRANSITIONS, RevenueEventStatus(event.status), RevenueEventStatus(new), actor
        )
    )
    if problem:
        raise InvalidTransition(describe(event), event.status, new, problem)


def _move(session: Session, event: PlanEvent, new: str, who: Who, reason: str) -> None:
    record_change(session, ObjectType.PLAN_EVENT, event.id, event.status, new, who, reason)
    event.status = new
    session.flush()
