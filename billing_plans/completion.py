"""When a plan is Completed: every event is done and the events total exactly 100 % of the line (DESIGN 2).

A billing event is done when Billed or Credited; a revenue event when Recognized or Reversed. A Reversed or
Credited event is done but no longer counts toward the 100 % (it is final and never reused: a new event
replaces it), so undoing an event of a Completed plan takes the plan back to Ready (:func:`reopen_if_short`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing_plans.shares import compare_to_whole
from contracts.audit import ObjectType, Who, record_change
from contracts.models import Plan
from contracts.status import (
    PLAN_TRANSITIONS,
    Actor,
    BillingEventStatus,
    PlanStatus,
    PlanType,
    RevenueEventStatus,
    move_error,
)

DONE: dict[PlanType, frozenset[str]] = {
    PlanType.BILLING: frozenset({BillingEventStatus.BILLED.value, BillingEventStatus.CREDITED.value}),
    PlanType.REVENUE: frozenset({RevenueEventStatus.RECOGNIZED.value, RevenueEventStatus.REVERSED.value}),
}
COUNTED: dict[PlanType, frozenset[str]] = {
    PlanType.BILLING: frozenset({BillingEventStatus.BILLED.value}),
    PlanType.REVENUE: frozenset({RevenueEventStatus.RECOGNIZED.value}),
}


def completion_gap(plan: Plan) -> str | None:
    """Why ``plan`` is not complete, or ``None`` when every event is done and they total exactly 100 %."""
    if not plan.events:
        return "it has no events"
    open_events = [e for e in plan.events if e.status not in DONE[plan.plan_type]]
    if open_events:
        listed = ", ".join(f"{e.event_num} ({e.status})" for e in open_events)
        return f"events not done yet: {listed}"
    counted = [(e.percentage, e.amount) for e in plan.events if e.status in COUNTED[plan.plan_type]]
    position = compare_to_whole(plan.contract_line.amount, counted)
    if position != 0:
        return f"its done events total {'less' if position < 0 else 'more'} than 100 % of the line"
    return None


def complete_if_done(session: Session, plan: Plan, who: Who) -> bool:
    """Move a Ready plan to Completed when :func:`completion_gap` finds nothing missing. The system decides
    (Actor.ENGINE in PLAN_TRANSITIONS), whoever's event move triggered it."""
    if plan.status != PlanStatus.READY or completion_gap(plan) is not None:
        return False
    problem = move_error(PLAN_TRANSITIONS, plan.status, PlanStatus.COMPLETED, Actor.ENGINE)
    if problem:  # pragma: no cover - Ready -> Completed is in the table
        raise AssertionError(problem)
    plan.status = PlanStatus.COMPLETED
    record_change(
        session,
        ObjectType.PLAN,
        plan.id,
        PlanStatus.READY,
        PlanStatus.COMPLETED,
        who,
        "all events are done and they total 100 %",
    )
    session.flush()
    return True


def reopen_if_short(session: Session, plan: Plan, who: Who, reason: str) -> bool:
    """Move a Completed plan back to Ready when its done events no longer total 100 % (after a reversal or
    a credit): the system's move (Actor.ENGINE in PLAN_TRANSITIONS), so a replacement event can be added."""
    if plan.status != PlanStatus.COMPLETED or completion_gap(plan) is None:
        return False
    problem = move_error(PLAN_TRANSITIONS, plan.status, PlanStatus.READY, Actor.ENGINE)
    if problem:  # pragma: no cover - Completed -> Ready is in the table
        raise AssertionError(problem)
    plan.status = PlanStatus.READY
    record_change(session, ObjectType.PLAN, plan.id, PlanStatus.COMPLETED, PlanStatus.READY, who, reason)
    session.flush()
    return True
