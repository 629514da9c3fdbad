"""Date arithmetic and formatting in SQL that reads the same on SQLite (ISO text dates) and PostgreSQL.

One construct per idea, shared by every condition type, the approval deadlines and the engine's messages:
Days Lag (``as_of - days_lag``) and deadlines (``activated_on + days``) are both :class:`add_days`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class add_days(sa.ColumnElement[dt.date]):  # reads like the SQL function it is
    """``day + days`` as a date, per row (``days`` may be a column, and negative): a deadline some days after
    contract activation, or the latest day a lagged event may have happened to count (``as_of - days_lag``)."""

    type = sa.Date()
    inherit_cache = True
    _traverse_internals = [
        ("day", InternalTraversal.dp_clauseelement),
        ("days", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, day: sa.ColumnElement[dt.date], days: sa.ColumnElement[int]) -> None:
        self.day = day
        self.days = days


@compiles(add_days)
def _add_days_default(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.day, **kw)} AS DATE) + {compiler.process(element.days, **kw)})"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    # Dates are ISO text in SQLite; date() with a day modifier returns ISO text, which compares as dates do.
    day = compiler.process(element.day, **kw)
    days = compiler.process(element.days, **kw)
    return f"date({day}, {days} || ' days')"


class iso_date(sa.ColumnElement[str]):
    """A date as ``YYYY-MM-DD`` text, for messages written by SQL (PostgreSQL's own text depends on DateStyle)."""

    type = sa.String()
    inherit_cache = True
    _traverse_internals = [("day", InternalTraversal.dp_clauseelement)]

    def __init__(self, day: sa.ColumnElement[dt.date]) -> None:
        self.day = day


@compiles(iso_date)
def _iso_date_default(element: iso_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.day, **kw)}, 'YYYY-MM-DD')"


@compiles(iso_date, "sqlite")
def _iso_date_sqlite(element: iso_date, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.day, **kw)
