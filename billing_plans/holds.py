"""Holds (issue 16): a contract (all its plans), a billing or revenue plan, or a single plan event is put on
hold and released again, by a person; who, when and why are the ``hold`` row and a StatusChange row
(object type ``Hold``: Held, then Released).

While held, an event is not announced on the feed, not claimed by a billing consumer's acknowledgement, and
cannot be billed or recognized; milestones keep completing (the engine is not involved). The feed and the
event services ask :func:`billing_plans.hold_scope.event_held`, so the rule is one predicate. On release,
what became eligible meanwhile is announced once (:func:`billing_plans.feed.publish_released`).

A one-cycle hold is released by the next run over its business unit that starts after it was put: the
clerk holds an event for the rest of the day, and the nightly run releases and announces it
(:func:`release_one_cycle`, called by the engine's last transaction).

Functions take the session and the clock (``Who``, ``as_of``) and return frozen values, so the CLI and the
service call them in a line each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from billing_plans import feed
from billing_plans.completion import DONE
from billing_plans.hold_scope import active
from billing_plans.keys import EventKey, PlanKey, event_key, get_event, get_plan, plan_key
from contracts.audit import ObjectType, Who, record_change
from contracts.errors import InvalidInput, NotFound, RuleViolation
from contracts.finops_models import Hold
from contracts.keys import ContractKey, get_contract
from contracts.models import Contract, ContractLine, Plan, PlanEvent, ProcessRun, StatusChange
from contracts.status import HoldStatus, PlanStatus

KINDS: dict[str, ObjectType] = {
    "contract": ObjectType.CONTRACT,
    "plan": ObjectType.PLAN,
    "event": ObjectType.PLAN_EVENT,
}
_KIND_OF = {v.value: k for k, v in KINDS.items()}


@dataclass(frozen=True)
class HoldTarget:
    """What a hold is put on: ``contract BU/CONTRACT``, ``plan BU/CONTRACT/LINE/PLAN_ID`` or
    ``event BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM``; the key is checked on parse."""

    kind: str
    key: ContractKey | PlanKey | EventKey

    @classmethod
    def parse(cls, kind: str, text: str) -> HoldTarget:
        kind = kind.strip().lower()
        if kind == "contract":
            return cls(kind, ContractKey.parse(text))
        if kind == "plan":
            return cls(kind, PlanKey.parse(text))
        if kind == "event":
            return cls(kind, EventKey.parse(text))
        raise InvalidInput(f"hold kind {kind!r} must be one of contract, plan, event")

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True)
class HoldView:
    hold_id: int
    kind: str
    key: str
    business_unit: str
    status: str
    reason: str
    one_cycle: bool
    held_at: dt.datetime
    held_by: str
    released_at: dt.datetime | None
    released_by: str | None
    release_reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReleaseResult:
    hold: HoldView
    announced: int
    """Feed entries appended by the release: what became eligible during the hold."""


def put_on_hold(
    session: Session, target: HoldTarget, who: Who, reason: str, *, one_cycle: bool = False
) -> HoldView:
    """Hold ``target``. Refused without a reason, on an object already on hold (by a hold of the same kind),
    and on what is finished (a Completed plan, a Billed/Credited/Recognized/Reversed event)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(f"hold on {target}: a reason is required")
    object_type, pk, contract = _resolve(session, target)
    existing = _active_hold(session, object_type, pk)
    if existing is not None:
        raise RuleViolation(
            str(target), f"is already on hold (hold {existing.id} by {existing.held_by}: {existing.reason})"
        )
    hold = Hold(
        object_type=object_type.value,
        object_pk=pk,
        contract_pk=contract.id,
        business_unit=contract.business_unit,
        reason=reason,
        one_cycle=one_cycle,
        held_at=who.at,
        held_by=who.user,
    )
    session.add(hold)
    session.flush()
    # Take the covered events' row locks in id order, as a feed acknowledgement does before it claims: an
    # ack in flight finishes first (its claim stands), and any later ack sees the hold (PostgreSQL).
    session.execute(
        select(PlanEvent.id)
        .where(PlanEvent.id.in_(_covered(select(literal(hold.id)))))
        .order_by(PlanEvent.id)
        .with_for_update()
    )
    why = f"put on hold{' for one cycle' if one_cycle else ''}: {reason}"
    record_change(session, ObjectType.HOLD, hold.id, None, HoldStatus.HELD, who, why)
    session.flush()
    return _view(session, hold)


def release(
    session: Session, target: HoldTarget, who: Who, *, as_of: dt.date, reason: str = ""
) -> ReleaseResult:
    """Release the active hold on ``target`` and announce what became eligible meanwhile, in the same
    transaction (``as_of`` decides which Date events are due, as a run's as-of date does)."""
    object_type, pk, _contract = _resolve(session, target, for_release=True)
    hold = _active_hold(session, object_type, pk)
    if hold is None:
        raise RuleViolation(str(target), "is not on hold")
    return _release(session, hold, who, as_of, reason)


def release_hold(
    session: Session, hold_id: int, who: Who, *, as_of: dt.date, reason: str = ""
) -> ReleaseResult:
    """Release hold ``hold_id`` (the service's ``POST /holds/{id}/release``), as :func:`release` does."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("hold", str(hold_id))
    if hold.released_at is not None:
        raise RuleViolation(f"hold {hold_id}", f"was already released by {hold.released_by}")
    return _release(session, hold, who, as_of, reason)


def _release(session: Session, hold: Hold, who: Who, as_of: dt.date, reason: str) -> ReleaseResult:
    hold.released_at, hold.released_by, hold.release_reason = who.at, who.user, reason.strip()
    record_change(
        session,
        ObjectType.HOLD,
        hold.id,
        HoldStatus.HELD,
        HoldStatus.RELEASED,
        who,
        reason.strip() or "released",
    )
    session.flush()
    announced = feed.publish_released(
        session.connection(), _covered(select(literal(hold.id))), as_of=as_of, at=who.at
    )
    return ReleaseResult(_view(session, hold), announced)


def list_holds(
    session: Session, *, include_released: bool = False, business_unit: str | None = None
) -> list[HoldView]:
    """Holds, oldest first: the active ones, or every hold with ``include_released``."""
    query = select(Hold).order_by(Hold.id)
    if not include_released:
        query = query.where(active())
    if business_unit is not None:
        query = query.where(Hold.business_unit == business_unit.upper())
    return [_view(session, h) for h in session.scalars(query)]


def release_one_cycle(
    conn: Connection,
    *,
    business_units: Sequence[str],
    process_instance: int,
    as_of: dt.date,
    at: dt.datetime,
    actor: str,
) -> int:
    """The run's part: release the one-cycle holds of ``business_units`` (or all, when empty) put before
    run ``process_instance`` started, with their StatusChange rows, and announce what they kept back.
    Set-based; returns the number of feed entries appended. Call it in the run's last transaction."""
    started = select(ProcessRun.started_at).where(ProcessRun.process_instance == process_instance)
    due = select(Hold.id).where(active(), Hold.one_cycle.is_(True), Hold.held_at < started.scalar_subquery())
    if business_units:
        due = due.where(Hold.business_unit.in_([bu.upper() for bu in business_units]))
    ids = list(conn.scalars(due.order_by(Hold.id)))
    if not ids:
        return 0
    reason = f"one-cycle hold released by run {process_instance}"
    conn.execute(
        update(Hold).where(Hold.id.in_(ids)).values(released_at=at, released_by=actor, release_reason=reason)
    )
    conn.execute(
        insert(StatusChange).from_select(
            ["object_type", "object_pk", "old_status", "new_status", "changed_at", "changed_by", "reason"],
            select(
                literal(ObjectType.HOLD.value),
                Hold.id,
                literal(HoldStatus.HELD.value),
                literal(HoldStatus.RELEASED.value),
                literal(at),
                literal(actor),
                literal(reason),
            ).where(Hold.id.in_(ids)),
        )
    )
    return feed.publish_released(
        conn,
        _covered(select(Hold.id).where(Hold.id.in_(ids))),
        as_of=as_of,
        at=at,
        process_instance=process_instance,
    )


# --- helpers ------------------------------------------------------------------------------------------


def _covered(hold_ids: Select[Any]) -> Select[Any]:
    """The ids of every plan event the holds among ``hold_ids`` cover (event, plan or contract)."""
    held = (
        select(Hold.id)
        .where(
            Hold.id.in_(hold_ids),
            or_(
                and_(Hold.object_type == ObjectType.PLAN_EVENT.value, Hold.object_pk == PlanEvent.id),
                and_(Hold.object_type == ObjectType.PLAN.value, Hold.object_pk == PlanEvent.plan_pk),
                and_(
                    Hold.object_type == ObjectType.CONTRACT.value, Hold.object_pk == ContractLine.contract_pk
                ),
            ),
        )
        .exists()
    )
    return (
        select(PlanEvent.id)
        .join(Plan, PlanEvent.plan_pk == Plan.id)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .where(held)
    )


def _resolve(
    session: Session, target: HoldTarget, *, for_release: bool = False
) -> tuple[ObjectType, int, Contract]:
    """The held object's type, id and contract; a finished object cannot be put on hold."""
    key = target.key
    if isinstance(key, ContractKey):
        contract = get_contract(session, key)
        return ObjectType.CONTRACT, contract.id, contract
    if isinstance(key, PlanKey):
        plan = get_plan(session, key)
        if not for_release and plan.status == PlanStatus.COMPLETED:
            raise RuleViolation(
                f"{plan.plan_type.lower()} plan {key}", "is Completed; nothing is left to hold"
            )
        return ObjectType.PLAN, plan.id, plan.contract_line.contract
    event = get_event(session, key)
    if not for_release and event.status in DONE[event.plan.plan_type]:
        raise RuleViolation(
            f"{event.plan.plan_type.lower()} plan event {key}", f"is {event.status}; nothing is left to hold"
        )
    return ObjectType.PLAN_EVENT, event.id, event.plan.contract_line.contract


def _active_hold(session: Session, object_type: ObjectType, pk: int) -> Hold | None:
    return session.scalar(
        select(Hold)
        .where(active(), Hold.object_type == object_type.value, Hold.object_pk == pk)
        .order_by(Hold.id)
    )


def _view(session: Session, hold: Hold) -> HoldView:
    return HoldView(
        hold_id=hold.id,
        kind=_KIND_OF[hold.object_type],
        key=_key_of(session, hold),
        business_unit=hold.business_unit,
        status=(HoldStatus.HELD if hold.released_at is None else HoldStatus.RELEASED).value,
        reason=hold.reason,
        one_cycle=hold.one_cycle,
        held_at=hold.held_at,
        held_by=hold.held_by,
        released_at=hold.released_at,
        released_by=hold.released_by,
        release_reason=hold.release_reason,
    )


def _key_of(session: Session, hold: Hold) -> str:
    if hold.object_type == ObjectType.CONTRACT.value:
        contract = session.get(Contract, hold.object_pk)
        found = contract.key if contract is not None else None
    elif hold.object_type == ObjectType.PLAN.value:
        plan = session.get(Plan, hold.object_pk)
        found = str(plan_key(plan)) if plan is not None else None
    else:
        event = session.get(PlanEvent, hold.object_pk)
        found = str(event_key(event)) if event is not None else None
    if found is None:  # pragma: no cover - held rows are never deleted while holds exist
        raise NotFound(hold.object_type.lower(), str(hold.object_pk))
    return found
