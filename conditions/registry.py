"""The condition types as data: one entry per type, each giving the engine set-based SQL, never a loop.

Every entry says, as SQL over a ``milestone_condition`` table or alias, when a Ready condition of its type
is **met** as of a date and when it is **blocked** (cannot become met as things stand, e.g. a Date without a
date). :func:`verdict` folds the entries into one ``CASE`` per chunk, so adding a type is adding an entry here.

SQL conditions are the exception: each distinct statement is run by :mod:`conditions.sql` on its own, so
its entry has no ``met`` and the engine evaluates it statement by statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions import date, milestone, user
from contracts.models import MilestoneCondition
from contracts.status import ConditionType

MetPredicate = Callable[[sa.FromClause, dt.date], sa.ColumnElement[bool]]
BlockedPredicate = Callable[[sa.FromClause], sa.ColumnElement[bool]]
Explainer = Callable[[Session, MilestoneCondition, dt.date], tuple[bool, str]]


class Verdict(Protocol):
    def __call__(
        self, c: sa.FromClause, as_of: dt.date, *, met: int, not_met: int, blocked: int
    ) -> sa.ColumnElement[int]: ...


# What :func:`verdict` says of a Ready condition. PENDING: a SQL condition, whose statement runs apart.
MET, NOT_MET, BLOCKED, PENDING = 1, 0, -1, 2


@dataclass(frozen=True)
class ConditionKind:
    """One condition type's rules. ``met`` is ``None`` for types evaluated statement by statement (SQL)."""

    condition_type: ConditionType
    met: MetPredicate | None
    blocked: BlockedPredicate
    blocked_reason: Callable[[Any], str]
    explain: Explainer | None
    verdict: Verdict | None = None
    """``met`` and ``blocked`` as one expression, when the type can answer both more cheaply at once."""


def _never(_c: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.false()


def _no_reason(_row: Any) -> str:  # pragma: no cover - SQL conditions are never blocked
    return ""


REGISTRY: Mapping[ConditionType, ConditionKind] = MappingProxyType(
    {
        ConditionType.DATE: ConditionKind(
            ConditionType.DATE, date.met, date.blocked, date.blocked_reason, date.explain
        ),
        ConditionType.USER: ConditionKind(
            ConditionType.USER, user.met, user.blocked, user.blocked_reason, user.explain
        ),
        ConditionType.MILESTONE: ConditionKind(
            ConditionType.MILESTONE,
            milestone.met,
            milestone.blocked,
            milestone.blocked_reason,
            milestone.explain,
            milestone.verdict,
        ),
        # Evaluated statement by statement (conditions.sql); a text that breaks the SQL rules is an error
        # of the run, not a blocked condition, because fixing the rules or the text unblocks it.
        ConditionType.SQL: ConditionKind(ConditionType.SQL, None, _never, _no_reason, None),
    }
)


def kind(condition_type: ConditionType) -> ConditionKind:
    return REGISTRY[ConditionType(condition_type)]


def verdict(c: sa.FromClause, as_of: dt.date) -> sa.ColumnElement[int]:
    """MET, NOT_MET, BLOCKED or PENDING for each row of ``c`` (Ready conditions), as one ``CASE`` on the type.

    One expression instead of "met OR blocked" in a WHERE and "met" again in the SELECT: each condition is
    looked at once, which matters where a look is a probe into another table.
    """
    whens: list[tuple[Any, sa.ColumnElement[int]]] = []
    for entry in REGISTRY.values():
        if entry.met is None:
            whens.append((entry.condition_type.value, sa.literal(PENDING, sa.Integer)))
        elif entry.verdict is not None:
            whens.append(
                (
                    entry.condition_type.value,
                    entry.verdict(c, as_of, met=MET, not_met=NOT_MET, blocked=BLOCKED),
                )
            )
        else:
            each = sa.case((entry.blocked(c), BLOCKED), (entry.met(c, as_of), MET), else_=NOT_MET)
            whens.append((entry.condition_type.value, each))
    return sa.case(dict(whens), value=c.c.condition_type, else_=NOT_MET)
