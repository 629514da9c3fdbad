"""Required conditions (DESIGN 3): the one definition of ALL and ONE, in Python and as SQL.

ALL is satisfied when there is at least one condition and every one is complete; ONE when at least one is.
A milestone without conditions never satisfies either (the Ready edit checks refuse it). The engine, the
explanation, the approval view and the run's warnings all ask :func:`satisfied` or :func:`satisfied_sql`,
so they cannot disagree; the SQL form is the least (ALL) or greatest (ONE) of a 0/1 flag over the
conditions, which is 1 exactly when the Python form is true (no conditions: 0, so NOT works too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from contracts.status import RequiredConditions


def satisfied(required: str, complete: Iterable[bool]) -> bool:
    flags = list(complete)
    if required == RequiredConditions.ONE:
        return any(flags)
    return bool(flags) and all(flags)


def satisfied_sql(
    required: sa.ColumnElement[Any],
    flag: sa.ColumnElement[bool],
    source: sa.FromClause,
    *where: sa.ColumnElement[bool],
) -> sa.ColumnElement[bool]:
    """Over the rows of ``source`` that ``where`` selects (one milestone's conditions, correlated), whether
    ``flag`` (per condition: it counts as complete) satisfies ``required`` (the milestone's column)."""
    one = sa.case((flag, 1), else_=0)
    aggregate = sa.case((required == RequiredConditions.ALL, sa.func.min(one)), else_=sa.func.max(one))
    found = sa.select(aggregate).select_from(source).where(*where).scalar_subquery()
    return sa.func.coalesce(found, 0) == 1  # never NULL: NOT of it must be true for "no conditions"
