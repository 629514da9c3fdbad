"""The SQL rules of a SQL condition (DESIGN §3 and §13 layer 1): allow-lists, limits and portability.

One package, one job per module: :mod:`.allowed` holds the allow-lists and limits, :mod:`.types` infers
the type class of expressions, :mod:`.portable` refuses what differs between SQLite and PostgreSQL,
:mod:`.ctes` resolves CTE names, :mod:`.checker` runs every check on sqlglot's tree, and
:mod:`.render` writes a validated condition out for a database. The public names stay importable from here.
"""

from conditions.sql_rules.allowed import (
    BINDS,
    DEFAULT_ALLOWED_FUNCTIONS,
    DEFAULT_ALLOWED_TABLES,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_NESTING,
)
from conditions.sql_rules.checker import SqlRules, validate_sql
from conditions.sql_rules.render import RESERVED_PREFIX, ValidatedSql, render_with_binds, sqlglot_dialect

__all__ = [
    "BINDS",
    "DEFAULT_ALLOWED_FUNCTIONS",
    "DEFAULT_ALLOWED_TABLES",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_NESTING",
    "RESERVED_PREFIX",
    "SqlRules",
    "ValidatedSql",
    "render_with_binds",
    "sqlglot_dialect",
    "validate_sql",
]
