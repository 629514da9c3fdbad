"""Planner hints written once for every layer that runs set-based SQL on the hot path."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

T = TypeVar("T")


class plain(sa.ColumnElement[T], Generic[T]):  # reads like the SQL it renders
    """A column that SQLite must not use an index for: ``+status`` (SQLite's documented way to disqualify
    a term from index use); the column itself everywhere else.

    Without statistics SQLite takes every ``status = ?`` as selective and drives the query from the
    status index: each chunk would then scan every Ready milestone (or every Completed condition, for
    each milestone checked), a quadratic run. The engine's statements (and the feed's) are meant to be
    driven from the scratch tables by primary key; wrapping the status columns in ``plain`` keeps them so.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: sa.ColumnElement[T]) -> None:
        self.column = column
        self.type = column.type


@compiles(plain)
def _plain_default(element: plain[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(plain, "sqlite")
def _plain_sqlite(element: plain[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
