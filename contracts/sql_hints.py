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


class unindexed(plain[T]):
    """:class:`plain` on PostgreSQL too: ``(column || '')``, an expression no index is on (text columns).

    PostgreSQL has statistics and mostly picks well, so :class:`plain` leaves the column alone there (with
    an expression in its filter, it reads a chunk's candidates by scanning the table instead of walking the
    primary key). But a statement driven by ids (:class:`among`) may still AND a bitmap of a whole status
    range into its probes: "every Ready Milestone condition", on every chain pass. Where that is the risk,
    use this.
    """

    inherit_cache = True


@compiles(unindexed, "postgresql")
def _unindexed_postgresql(element: unindexed[Any], compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"({column} || '')" if isinstance(element.type, sa.String) else column


class among(sa.ColumnElement[bool]):
    """``column`` is one of the ids ``ids`` selects from a scratch table: how every statement of a chunk or
    pass (the feed's included) is driven from its own ids into a big table's index.

    SQLite: ``column IN (SELECT ..)``. Joined instead, SQLite takes the temporary table, which has no
    statistics, for a million rows, and for so many probes builds a Bloom filter over the whole big table
    first (on every pass); an ``IN`` list it takes for a few dozen rows and probes the index with each.
    PostgreSQL: ``column = ANY(ARRAY(SELECT ..))``, which can only be answered by probing an index on
    ``column`` with the ids. With ``IN`` the planner may pick a hash or merge join over the whole table
    whenever it takes the scratch table for a sizeable share of it, which on a table of tens of thousands of
    rows it does.
    """

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a predicate already: no "= 1" after it where booleans are integers
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: sa.ColumnElement[Any], ids: sa.Select[tuple[int]]) -> None:
        self.column = column
        self.ids = ids


@compiles(among)
def _among_default(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(among, "postgresql")
def _among_postgresql(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY{compiler.process(element.ids.scalar_subquery(), **kw)})"
