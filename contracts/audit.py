"""Who changed what, and the one writer of StatusChange rows.

Every status move of every layer (a person's, a run's, an approval's, an unset action's) writes its
StatusChange rows through this module, so all of them share one clock (:func:`audit_clock`: naive UTC), one
precision (the whole second, as people read it) and one spelling of the actor (:func:`audit_user`). Rows are
ordered by their id, the history's sequence: readers never rely on ``changed_at`` to order two changes, because
two changes in the same second (a milestone set Ready and completed by a run at once) tie on it.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.models import StatusChange
from contracts.schema import table_of

AUDIT_USER_LENGTH = 40
"""``status_change.changed_by`` is a VARCHAR(40): every writer cuts the actor's name the same way."""

_sc = table_of(StatusChange)
COLUMNS = ("object_type", "object_pk", "old_status", "new_status", "changed_at", "changed_by", "reason")


class ObjectType(StrEnum):
    CONTRACT = "Contract"
    MILESTONE = "Milestone"
    CONDITION = "Condition"
    PLAN = "Plan"
    PLAN_EVENT = "Plan Event"
    HOLD = "Hold"


def audit_time(at: dt.datetime) -> dt.datetime:
    """The one precision of the audit trail: naive UTC, to the whole second."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.replace(microsecond=0)


def audit_clock() -> dt.datetime:
    """The one clock of every writer (people and runs alike): now, as :func:`audit_time` stores it."""
    return audit_time(dt.datetime.now(dt.UTC))


def audit_user(user: str) -> str:
    return user[:AUDIT_USER_LENGTH]


@dataclass(frozen=True)
class Who:
    """The actor of a change and the wall-clock time it happened: passed in, so tests control the clock."""

    user: str
    at: dt.datetime

    @classmethod
    def now(cls, user: str | None = None) -> Who:
        return cls(user or default_user(), audit_clock())


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def change_row(
    object_type: ObjectType, object_pk: int, old: str | None, new: str, who: Who, reason: str
) -> dict[str, Any]:
    """One StatusChange row as values, normalized (clock precision, actor length)."""
    return {
        "object_type": object_type.value,
        "object_pk": object_pk,
        "old_status": None if old is None else str(old),
        "new_status": str(new),
        "changed_at": audit_time(who.at),
        "changed_by": audit_user(who.user),
        "reason": reason,
    }


def record_changes(conn: sa.Connection | Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows made by :func:`change_row`, in one statement, in the order given (their ids follow it)."""
    if rows:
        conn.execute(_sc.insert(), list(rows))


def record_change(
    session: Session,
    object_type: ObjectType,
    object_pk: int,
    old: str | None,
    new: str,
    who: Who,
    reason: str,
) -> None:
    """One status move of one object, in the session's transaction. Flushed first, so the row's id comes
    after every change the session made before it (the history's order is the id's)."""
    session.flush()
    record_changes(session, [change_row(object_type, object_pk, old, new, who, reason)])


def record_changes_from(
    conn: sa.Connection,
    object_type: ObjectType,
    pks: sa.Select[Any],
    old: str,
    new: str,
    who: Who,
    reason: str,
) -> None:
    """One move of every object ``pks`` selects (one column of ids), as one ``INSERT .. SELECT``: a run's
    completions, whatever their number. Ids follow the order of ``pks``."""
    sub = pks.subquery("ms_prcs_audit_pks")
    values = sa.select(
        sa.literal(object_type.value, sa.String),
        sub.c[0],
        sa.literal(str(old), sa.String),
        sa.literal(str(new), sa.String),
        sa.literal(audit_time(who.at), sa.DateTime),
        sa.literal(audit_user(who.user), sa.String),
        sa.literal(reason, sa.Text),
    ).order_by(sub.c[0])
    conn.execute(_sc.insert().from_select(list(COLUMNS), values))


def history_order() -> tuple[sa.ColumnElement[Any], ...]:
    """The order of the history: the row's id, its sequence (never the clock, which ties within a second)."""
    return (_sc.c.id,)
