"""Which table names in a SQL condition are CTEs, resolved as the strictest supported database does.

The table allow-list must not be fooled by a CTE named like a real table that the database would not
resolve to the CTE (a non-recursive self-reference, a CTE of another subquery).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

__all__ = ["is_cte_reference"]


def _ancestors(node: exp.Expr) -> Iterator[tuple[exp.Expr, exp.Expr]]:
    """(child, parent) pairs from ``node`` up to the root."""
    child = node
    parent = node.parent
    while parent is not None:
        yield child, parent
        child, parent = parent, parent.parent


def is_cte_reference(table: exp.Table) -> bool:
    """Whether an unqualified table name resolves to a CTE rather than a real table.

    Resolution follows the strictest of the supported databases, so a name is only treated as a CTE
    when every database would: the main query sees all CTEs of its WITH; a CTE sees the CTEs before it,
    and itself and all others only under WITH RECURSIVE (PostgreSQL resolves a non-recursive
    self-reference such as ``WITH payroll AS (SELECT * FROM payroll)`` to the real table, which must
    then pass the allow-list). Collecting CTE names globally instead would let a CTE defined in one
    subquery hide a real table of the same name elsewhere.
    """
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = table.name.lower()
    came_from_cte: exp.Expr | None = None
    for child, parent in _ancestors(table):
        if isinstance(child, exp.CTE):
            came_from_cte = child
        with_ = parent.args.get("with_") or parent.args.get("with")
        if not isinstance(with_, exp.With):
            continue
        ctes = [c for c in with_.expressions if isinstance(c, exp.CTE)]
        if child is with_ and came_from_cte is not None:
            index = next((i for i, c in enumerate(ctes) if c is came_from_cte), len(ctes))
            visible = ctes if with_.args.get("recursive") else ctes[:index]
        else:
            visible = ctes
        if any(c.alias_or_name.lower() == name for c in visible):
            return True
        came_from_cte = None
    return False
