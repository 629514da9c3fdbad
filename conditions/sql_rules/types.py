"""The type class of each expression of a SQL condition, as far as it can be known before it runs.

The portability rules need to know whether ``x = 1`` compares text with a number (true on PostgreSQL,
false on SQLite for ``'1' = 1``). sqlglot's ``annotate_types`` only types columns it can qualify, and its
``qualify`` rewrites the tree the rules must point into, so the inference here is small and made for
the job: literals, binds, casts and functions by their definition, columns through the aliases of
their query to the ms-prcs schema (:data:`contracts.models.Base` metadata) or to a derived table's
select list. Anything it cannot tell is ``None`` (unknown), and the rules let unknown types through:
the second and third layers of DESIGN §13 still hold for them.

Type classes: ``text``, ``integer``, ``decimal`` (exact or unknown-scale numbers), ``float``, ``date``,
``timestamp``, ``boolean``, ``interval``, ``null``.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlglot import exp

from conditions.sql_rules.allowed import ALLOWED_CAST_TYPES, BIND_TYPES
from contracts.models import Base

__all__ = ["NUMBERS", "Types", "schema_types"]

NUMBERS = frozenset({"integer", "decimal", "float"})

_TEXT_FUNCS = (exp.Lower, exp.Upper, exp.Trim, exp.Substring, exp.Replace)
_INTEGER_FUNCS = (exp.Length, exp.Count, exp.RowNumber, exp.Rank, exp.DenseRank, exp.Extract)
_BOOLEAN_NODES = (exp.Predicate, exp.And, exp.Or, exp.Not, exp.Exists, exp.Like, exp.In, exp.Between)


@functools.cache
def schema_types() -> dict[str, dict[str, str]]:
    """``{table: {column: type class}}`` of the ms-prcs schema, from the SQLAlchemy models."""
    return {
        table.name: {column.name: _class_of(column.type) for column in table.columns}
        for table in Base.metadata.tables.values()
    }


def _class_of(sql_type: sa.types.TypeEngine[object]) -> str:
    if isinstance(sql_type, sa.Boolean):
        return "boolean"
    if isinstance(sql_type, sa.DateTime):
        return "timestamp"
    if isinstance(sql_type, sa.Date):
        return "date"
    if isinstance(sql_type, sa.Integer):
        return "integer"
    if isinstance(sql_type, sa.Float):
        return "float"
    if isinstance(sql_type, sa.Numeric):
        return "decimal"
    return "text"  # String, Text and the enums stored by value


def _number(a: str | None, b: str | None) -> str | None:
    """The class of ``a op b`` for arithmetic on numbers (float wins, then decimal, then integer)."""
    if a is None or b is None or a not in NUMBERS | {"null"} or b not in NUMBERS | {"null"}:
        return None
    for kind in ("float", "decimal", "integer"):
        if kind in (a, b):
            return kind
    return "null"


class Types:
    """Memoized type classes of the nodes of one tree."""

    def __init__(self, tables: frozenset[str]) -> None:
        self.schema = {name: cols for name, cols in schema_types().items() if name in tables}
        self._memo: dict[int, str | None] = {}
        self._busy: set[int] = set()  # guards recursive CTEs, whose columns refer to themselves

    def of(self, node: exp.Expr | None) -> str | None:
        if node is None:
            return None
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            return None
        self._busy.add(key)
        try:
            kind = self._infer(node)
        finally:
            self._busy.discard(key)
        self._memo[key] = kind
        return kind

    def _infer(self, node: exp.Expr) -> str | None:  # one branch per construct
        if isinstance(node, exp.Literal):
            if node.is_string:
                return "text"
            return "integer" if node.this.lstrip("-").isdigit() else "decimal"
        if isinstance(node, exp.Null):
            return "null"
        if isinstance(node, exp.Boolean):
            return "boolean"
        if isinstance(node, exp.Placeholder):
            return BIND_TYPES.get(str(node.this).lower())
        if isinstance(node, (exp.Paren, exp.Alias, exp.Neg, exp.Abs, exp.Max, exp.Min)):
            return self.of(node.this)
        if isinstance(node, exp.Cast):
            return ALLOWED_CAST_TYPES.get(node.to.this) if isinstance(node.to, exp.DataType) else None
        if isinstance(node, exp.Interval):
            return "interval"
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, (*_BOOLEAN_NODES, exp.Is)):
            return "boolean"
        if isinstance(node, (exp.Add, exp.Sub)):
            left, right = self.of(node.this), self.of(node.expression)
            if left == "date" and right == "interval":
                return "date"  # rendered as a date on both databases, see conditions.sql_rules.render
            return _number(left, right)
        if isinstance(node, (exp.Mul, exp.Div, exp.Mod)):
            return _number(self.of(node.this), self.of(node.expression))
        if isinstance(node, (exp.DPipe, *_TEXT_FUNCS)):
            return "text"
        if isinstance(node, _INTEGER_FUNCS):
            return "integer"
        if isinstance(node, exp.Sum):
            inner = self.of(node.this)
            return inner if inner in NUMBERS else None
        if isinstance(node, exp.Avg):
            return "float" if self.of(node.this) == "float" else "decimal"
        if isinstance(node, (exp.Coalesce, exp.Nullif)):
            return self._first_known([node.this, *node.expressions, node.expression])
        if isinstance(node, exp.Case):
            return self._first_known(
                [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
            )
        if isinstance(node, exp.Subquery):
            return self.of(node.this)
        if isinstance(node, exp.Select):
            return self.of(node.selects[0]) if len(node.selects) == 1 else None
        if isinstance(node, exp.SetOperation):
            return self.of(node.left)
        return None

    def _first_known(self, nodes: list[exp.Expr | None]) -> str | None:
        for item in nodes:
            kind = self.of(item)
            if kind not in (None, "null"):
                return kind
        return None

    # -- columns -------------------------------------------------------------------------------------

    def _column(self, column: exp.Column) -> str | None:
        name = column.name.lower()
        if not name:
            return None
        qualifier = column.table.lower()
        select = column.find_ancestor(exp.Select)
        while select is not None:
            sources = _sources(select)
            if qualifier:
                if qualifier in sources:
                    return self._from_source(sources[qualifier], name)
            else:
                found = [s for s in sources.values() if self._has_column(s, name)]
                if len(found) == 1:
                    return self._from_source(found[0], name)
                if found:
                    return None  # ambiguous: the database will say so
            select = select.find_ancestor(exp.Select)
        return None

    def _has_column(self, source: exp.Expr | str, name: str) -> bool:
        if isinstance(source, str):
            return name in self.schema.get(source, {})
        return any(p.alias_or_name.lower() == name for p in _projections(source))

    def _from_source(self, source: exp.Expr | str, name: str) -> str | None:
        if isinstance(source, str):
            return self.schema.get(source, {}).get(name)
        for projection in _projections(source):
            if projection.alias_or_name.lower() == name:
                return self.of(projection)
        return None


def _projections(query: exp.Expr) -> list[exp.Expr]:
    while isinstance(query, (exp.Subquery, exp.SetOperation)):
        query = query.this if isinstance(query, exp.Subquery) else query.left
    return list(query.selects) if isinstance(query, exp.Select) else []


def _sources(select: exp.Select) -> dict[str, exp.Expr | str]:
    """The names a column of ``select`` can be qualified with: a real table's name or a derived query."""
    found: dict[str, exp.Expr | str] = {}
    from_ = select.args.get("from_") or select.args.get("from")
    items = [from_.this] if isinstance(from_, exp.From) else []
    items += [join.this for join in select.args.get("joins") or []]
    for item in items:
        alias = item.alias_or_name.lower()
        if isinstance(item, exp.Subquery):
            found[alias] = item.this
        elif isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            cte = _cte(item)
            if cte is not None:
                found[alias] = cte.this
            elif not item.db:
                found[alias] = item.name.lower()
    return found


def _cte(table: exp.Table) -> exp.CTE | None:
    """The CTE an unqualified table name refers to, looking outward through the enclosing WITHs."""
    name = table.name.lower()
    node: exp.Expr | None = table
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if isinstance(cte, exp.CTE) and cte.alias_or_name.lower() == name:
                    return cte
        node = node.parent
    return None
