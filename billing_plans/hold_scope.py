"""What a hold covers, as one SQL predicate: the feed, claims, billing and recognition all ask it.

A plan event is held while an active hold (``released_at`` empty) names the event, its plan, or its
contract. The predicate is a correlated ``EXISTS`` over the small ``hold`` table, so the feed's set-based
``INSERT .. SELECT`` statements stay single statements. Kept apart from :mod:`billing_plans.holds` (which
writes holds and publishes on release) so that the feed can import it without a cycle.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from contracts.audit import ObjectType
from contracts.finops_models import Hold
from contracts.models import ContractLine, Plan, PlanEvent


def active() -> ColumnElement[bool]:
    return Hold.released_at.is_(None)


def event_held(
    event_pk: ColumnElement[Any] | Any,
    plan_pk: ColumnElement[Any] | Any,
    contract_pk: ColumnElement[Any] | Any | None = None,
) -> ColumnElement[bool]:
    """True while an active hold covers the event. ``contract_pk`` may be omitted where the statement has
    no contract in its FROM list: it is then found from the plan, through aliases so that nothing of the
    enclosing statement is correlated by accident (a scalar subquery that loses its correlation returns
    many rows: PostgreSQL refuses it, SQLite silently takes the first)."""
    own = or_(
        and_(Hold.object_type == ObjectType.PLAN_EVENT.value, Hold.object_pk == event_pk),
        and_(Hold.object_type == ObjectType.PLAN.value, Hold.object_pk == plan_pk),
    )
    if contract_pk is not None:
        return exists().where(
            active(),
            or_(own, and_(Hold.object_type == ObjectType.CONTRACT.value, Hold.object_pk == contract_pk)),
        )
    plan, line = aliased(Plan), aliased(ContractLine)
    by_contract = exists().where(
        active(),
        Hold.object_type == ObjectType.CONTRACT.value,
        Hold.object_pk == line.contract_pk,
        line.id == plan.contract_line_pk,
        plan.id == plan_pk,
    )
    return or_(exists().where(active(), own), by_contract)


def hold_on_event(session: Session, event: PlanEvent) -> Hold | None:
    """The oldest active hold covering ``event`` (for messages), or ``None``."""
    contract_pk = event.plan.contract_line.contract_pk
    return session.scalar(
        select(Hold)
        .where(
            active(),
            or_(
                and_(Hold.object_type == ObjectType.PLAN_EVENT.value, Hold.object_pk == event.id),
                and_(Hold.object_type == ObjectType.PLAN.value, Hold.object_pk == event.plan_pk),
                and_(Hold.object_type == ObjectType.CONTRACT.value, Hold.object_pk == contract_pk),
            ),
        )
        .order_by(Hold.id)
        .limit(1)
    )


def describe_hold(hold: Hold) -> str:
    """``on hold since 2026-01-10 09:30 by ana (contract hold 3: dispute)``."""
    kind = {"Plan Event": "event", "Plan": "plan", "Contract": "contract"}.get(hold.object_type, "")
    return (
        f"on hold since {hold.held_at:%Y-%m-%d %H:%M} by {hold.held_by}"
        f" ({kind} hold {hold.id}: {hold.reason})"
    )
