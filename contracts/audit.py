"""Who changed what, and the StatusChange rows every status move writes in its own transaction."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from contracts.models import StatusChange


class ObjectType(StrEnum):
    CONTRACT = "Contract"
    MILESTONE = "Milestone"
    CONDITION = "Condition"
    PLAN = "Plan"
    PLAN_EVENT = "Plan Event"
    HOLD = "Hold"


@dataclass(frozen=True)
class Who:
    """The actor of a change and the wall-clock time it happened: passed in, so tests control the clock."""

    user: str
    at: dt.datetime

    @classmethod
    def now(cls, user: str | None = None) -> Who:
        return cls(user or default_user(), dt.datetime.now(dt.UTC).replace(tzinfo=None))


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def record_change(
    session: Session,
    object_type: ObjectType,
    object_pk: int,
    old: str | None,
    new: str,
    who: Who,
    reason: str,
) -> None:
    session.add(
        StatusChange(
            object_type=object_type.value,
            object_pk=object_pk,
            old_status=old,
            new_status=new,
            changed_at=who.at,
            changed_by=who.user,
            reason=reason,
        )
    )
