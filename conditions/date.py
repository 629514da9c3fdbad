"""The Date condition (DESIGN 3): met when ``condition_date <= as_of`` (the as-of day itself counts).

A Date condition without a date can be Ready (auto-ready from a plan template, the seed's note) but can
never be met until someone sets one: the engine reports such milestones instead of silently skipping them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from contracts.models import MilestoneCondition
from contracts.status import ConditionType

TYPE = ConditionType.DATE


def met(c: sa.FromClause, as_of: dt.date) -> sa.ColumnElement[bool]:
    """Set-based: the rows of ``c`` (a milestone_condition table or alias) whose date has come."""
    return sa.and_(c.c.condition_date.is_not(None), c.c.condition_date <= sa.literal(as_of, sa.Date))


def blocked(c: sa.FromClause) -> sa.ColumnElement[bool]:
    """Cannot become met as things stand: there is no date to wait for."""
    return c.c.condition_date.is_(None)


def blocked_reason(_row: Any) -> str:
    return "has no date; it cannot be met until one is set"


def explain(_session: Any, condition: MilestoneCondition, as_of: dt.date) -> tuple[bool, str]:
    when = condition.condition_date
    if when is None:
        return False, "no date is set"
    if when <= as_of:
        return True, f"Date {when} is on or before as-of {as_of}"
    return False, f"Date {when} is after as-of {as_of}"
