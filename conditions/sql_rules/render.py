"""A validated SQL condition written out for a database: sqlglot's transpiler plus the product's portable forms.

Two constructs the rules allow have no common spelling, so they are rewritten here when the statement
is rendered for a database (never in :attr:`ValidatedSql.normalized`, which must validate to itself):

* ``date + INTERVAL 'n days'`` (or ``-``, or weeks) is a date on both: ``CAST(date + INTERVAL 'n DAY'
  AS DATE)`` on PostgreSQL, ``DATE(date, '+n days')`` on SQLite (the same shape as
  :class:`conditions.sql_dates.add_days`, which the engine's own date arithmetic uses);
* ``EXTRACT(YEAR|MONTH|DAY FROM date)`` becomes ``CAST(STRFTIME('%m', date) AS INTEGER)`` on SQLite,
  which has no EXTRACT.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from conditions.sql_rules.portable import interval_days

__all__ = [
    "RESERVED_PREFIX",
    "ValidatedSql",
    "colon_bind",
    "parse_one",
    "render",
    "render_with_binds",
    "sqlglot_dialect",
]

# Names the evaluator uses for its own derived table and binds; a user alias with such a name could
# capture the evaluator's correlated references.
RESERVED_PREFIX = "ms_prcs_"

_SQLALCHEMY_TO_SQLGLOT = {"postgresql": "postgres", "sqlite": "sqlite"}
_STRFTIME = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d"}


def sqlglot_dialect(name: str) -> str:
    """Map SQLAlchemy dialect names to sqlglot's, because the two libraries disagree on PostgreSQL."""
    return _SQLALCHEMY_TO_SQLGLOT.get(name.lower(), name.lower())


@dataclass(frozen=True)
class ValidatedSql:
    """A SQL condition that passed :func:`conditions.sql_rules.validate_sql`.

    ``normalized`` is regenerated from sqlglot's tree (no comments, canonical spacing and casing of
    keywords, binds lower-cased) so that two texts with the same meaning usually compare equal and the
    engine can evaluate them as one statement. ``dialect`` is the sqlglot dialect ``normalized`` is
    written in, needed to transpile it later.
    """

    source: str
    normalized: str
    binds: frozenset[str]
    dialect: str = "postgres"

    def to_dialect(self, dialect: str, *, for_text: bool = False) -> str:
        """The statement in another database's SQL (``"sqlite"``, ``"postgresql"``), binds kept as ``:name``.

        sqlglot's own PostgreSQL output would turn ``:name`` into psycopg's ``%(name)s``, which SQLAlchemy
        ``text()`` does not recognise, so binds are rendered by hand. ``text()`` also takes *every*
        ``:word`` as a bind, including one inside a string literal such as ``'a :b'``; with
        ``for_text=True`` all other colons are escaped as ``\\:`` so that ``text()`` sees exactly
        :attr:`binds`.
        """
        return _transpile(self.normalized, self.dialect, sqlglot_dialect(dialect), for_text)


def render_with_binds(statement: ValidatedSql, dialect: str, bind: Callable[[str], exp.Expr]) -> str:
    """Transpile ``statement`` to ``dialect``, replacing each ``:name`` bind by the expression ``bind(name)``.

    The evaluator uses this to turn per-condition binds into correlated column references on the
    sqlglot tree, where a regex could not tell a bind from the same text in a literal or comment.
    """
    tree = parse_one(statement.normalized, statement.dialect)
    return render(tree, sqlglot_dialect(dialect), bind, portable=True)


@functools.lru_cache(maxsize=1024)
def _transpile(normalized: str, source_dialect: str, target_dialect: str, for_text: bool) -> str:
    tree = parse_one(normalized, source_dialect)
    if not for_text:
        return render(tree, target_dialect, colon_bind, portable=True)
    sentinel = f"{RESERVED_PREFIX}bind_{uuid.uuid4().hex}_"
    sql = render(tree, target_dialect, lambda name: exp.Var(this=sentinel + name), portable=True)
    return re.sub(re.escape(sentinel) + r"(\w+)", r":\1", sql.replace(":", "\\:"))


def colon_bind(name: str) -> exp.Expr:
    # A Var is generated verbatim by every dialect, so ``:name`` survives transpiling unchanged.
    return exp.Var(this=f":{name}")


def parse_one(text: str, dialect: str) -> exp.Expr:
    tree = sqlglot.parse_one(text, read=sqlglot_dialect(dialect))
    if tree is None:  # pragma: no cover - parse_one raises on empty input in current sqlglot
        raise ParseError("empty SQL")
    return tree


def render(tree: exp.Expr, dialect: str, bind: Callable[[str], exp.Expr], *, portable: bool = False) -> str:
    """``tree`` as ``dialect`` SQL with binds replaced; ``portable`` applies the rewrites of the module doc."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and isinstance(node.this, str) and node.this:
            return bind(node.this)
        return node

    tree = tree.copy()
    if portable:
        tree = _portable(tree, dialect)
    return tree.transform(swap).sql(dialect=dialect, comments=False)


def _portable(tree: exp.Expr, dialect: str) -> exp.Expr:
    # Deepest first, so that a rewritten inner node is what its parent's rewrite wraps.
    for node in reversed(list(tree.find_all(exp.Add, exp.Sub, exp.Extract))):
        if isinstance(node, exp.Extract):
            if dialect == "sqlite" and isinstance(node.this, exp.Var):
                fmt = _STRFTIME.get(str(node.this.this).upper())
                if fmt:
                    call = exp.Anonymous(
                        this="STRFTIME", expressions=[exp.Literal.string(fmt), node.expression]
                    )
                    node.replace(exp.Cast(this=call, to=exp.DataType.build("INT")))
            continue
        interval = node.expression
        days = interval_days(interval) if isinstance(interval, exp.Interval) else None
        if days is None:
            continue
        if isinstance(node, exp.Sub):
            days = -days
        if dialect == "sqlite":
            modifier = exp.Literal.string(f"{days:+d} days")
            node.replace(exp.Anonymous(this="DATE", expressions=[node.this, modifier]))
        else:
            shifted = exp.Add(
                this=exp.Cast(this=node.this, to=exp.DataType.build("DATE")),
                expression=exp.Literal.number(days),
            )
            node.replace(shifted)
    return tree
