"""Notifications: what waits for a person (``ms-prcs inbox``), and milestone assignment.

An inbox item is written when a milestone is assigned to someone, when an approval is submitted (to its
approvers and the milestone's assignees), and by a ``notify`` follow-up. Requests to approve are closed
(``done``) as soon as the approval is decided or withdrawn, so the inbox lists only what still waits; anything
else stays until its owner dismisses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.audit import Who
from contracts.errors import AlreadyExists, NotAuthorized, NotFound, RuleViolation
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import AppUser
from contracts.status import MilestoneStatus
from ms_prcs.approvals.models import MilestoneAssignment
from ms_prcs.approvals.rules import check_may_edit
from ms_prcs.approvals.sql import assignment_t, contract_t, inbox_t, milestone_key, milestone_t

REQUEST = "Approval requested"
"""How a request to approve starts (``Approval requested: condition 1 of US001/K1000/MS100/1 ...``): the
prefix, with the condition, is what closes it once the approval is decided."""


@dataclass(frozen=True)
class Notice:
    user_id: str
    milestone_pk: int | None
    text: str


def notify(conn: sa.Connection, notices: Iterable[Notice], at: dt.datetime) -> int:
    """Write the notices (one statement for all of them); returns how many."""
    rows = [
        {
            "user_id": n.user_id,
            "milestone_pk": n.milestone_pk,
            "text": n.text,
            "created_at": at.replace(microsecond=0),  # to the second, as people read it
            "done": False,
        }
        for n in notices
    ]
    if rows:
        conn.execute(inbox_t.insert(), rows)
    return len(rows)


def request_text(seq: int, key: str, descr: str, how: str) -> str:
    what = f" ({descr})" if descr else ""
    return f"{REQUEST}: condition {seq} of {key}{what}, {how}"


def close_requests(conn: sa.Connection, items: Iterable[tuple[int, int]]) -> None:
    """Close the open requests to approve condition ``seq`` of milestone ``pk`` for each (pk, seq)."""
    for milestone_pk, seq in sorted(set(items)):
        conn.execute(
            inbox_t.update()
            .where(
                inbox_t.c.milestone_pk == milestone_pk,
                inbox_t.c.done.is_(False),
                inbox_t.c.text.like(f"{REQUEST}: condition {seq} of %"),
            )
            .values(done=True)
        )


def assignees(conn: sa.Connection | Session, milestone_pks: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    if not milestone_pks:
        return result
    for pk, user in conn.execute(
        sa.select(assignment_t.c.milestone_pk, assignment_t.c.user_id)
        .where(assignment_t.c.milestone_pk.in_(sorted(set(milestone_pks))))
        .order_by(assignment_t.c.milestone_pk, assignment_t.c.user_id)
    ):
        result.setdefault(pk, []).append(user)
    return result


def assign(session: Session, key: MilestoneKey, user: str, who: Who) -> MilestoneAssignment:
    """Milestone Assignment: ``user`` is responsible for the milestone and is told so in their inbox. Only
    someone who may edit the contract assigns; a Completed or Cancelled milestone needs nobody."""
    milestone = get_milestone(session, key)
    if session.get(AppUser, user) is None:
        raise NotFound("user", user)
    if milestone.status in (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED):
        raise RuleViolation(f"milestone {key}", f"is {milestone.status}; it cannot be assigned")
    check_may_edit(session, milestone.contract, who.user, f"assign milestone {key}")
    if session.get(MilestoneAssignment, (milestone.id, user)) is not None:
        raise AlreadyExists("assignment", f"of milestone {key} to {user}")
    row = MilestoneAssignment(
        milestone_pk=milestone.id, user_id=user, assigned_at=who.at.replace(microsecond=0)
    )
    session.add(row)
    session.flush()
    descr = f" ({milestone.descr})" if milestone.descr else ""
    notify(
        session.connection(),
        [Notice(user, milestone.id, f"Assigned: milestone {key}{descr}, by {who.user}")],
        who.at,
    )
    return row


def inbox(session: Session, user: str, *, include_done: bool = False) -> list[dict[str, Any]]:
    """What waits for ``user``, oldest first (with ``include_done``, everything they were ever sent)."""
    query = (
        sa.select(
            inbox_t.c.id,
            inbox_t.c.created_at,
            milestone_key(contract_t, milestone_t).label("milestone"),
            inbox_t.c.text,
            inbox_t.c.done,
        )
        .select_from(
            inbox_t.outerjoin(milestone_t, milestone_t.c.id == inbox_t.c.milestone_pk).outerjoin(
                contract_t, contract_t.c.id == milestone_t.c.contract_pk
            )
        )
        .where(inbox_t.c.user_id == user)
        .order_by(inbox_t.c.id)
    )
    if not include_done:
        query = query.where(inbox_t.c.done.is_(False))
    return [dict(row._mapping) for row in session.execute(query)]


def dismiss(session: Session, user: str, ids: Sequence[int], by: str) -> None:
    """Mark items of ``user``'s inbox done; only their owner may (``by``), and every id must name one."""
    if by != user:
        raise NotAuthorized(by, f"inbox of {user}", "only its owner may dismiss its items")
    found = set(
        session.scalars(sa.select(inbox_t.c.id).where(inbox_t.c.user_id == user, inbox_t.c.id.in_(ids)))
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound("inbox item", f"{missing[0]} of {user}")
    session.execute(inbox_t.update().where(inbox_t.c.id.in_(ids)).values(done=True))
