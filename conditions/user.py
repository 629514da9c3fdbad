"""The User Initiated condition (DESIGN 3): met only by a person's Mark Complete, never by the engine.

The engine reads it and nothing more: a Ready one is simply not met yet, a Completed one counts towards
its milestone's required conditions like any other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contracts.models import MilestoneCondition
from contracts.status import ConditionType

TYPE = ConditionType.USER


def met(_c: sa.FromClause, _as_of: dt.date) -> sa.ColumnElement[bool]:
    """The engine never completes a User Initiated condition (Mark Complete already did, or has not yet)."""
    return sa.false()


def blocked(_c: sa.FromClause) -> sa.ColumnElement[bool]:
    """A person can always still mark it: never blocked."""
    return sa.false()


def blocked_reason(_row: Any) -> str:  # pragma: no cover - never blocked
    return ""


def explain(_session: Any, _condition: MilestoneCondition, _as_of: dt.date) -> tuple[bool, str]:
    return False, "not marked complete"
