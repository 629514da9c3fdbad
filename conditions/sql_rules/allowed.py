"""The allow-lists of a SQL condition: tables, binds, functions, operators, constructs and cast types.

Allow, don't deny (issue 13): a deny-list of dangerous functions missed ``ts_stat``, ``ts_rewrite``,
``pg_stat_get_activity``, replication slots and ``randomblob``, and every new PostgreSQL or SQLite release
adds more. So everything a condition may contain is listed here, and anything else in sqlglot's tree is
refused at Ready. Each listed function and construct behaves the same on SQLite and PostgreSQL once
:mod:`conditions.sql_rules.portable` has checked how it is used.

Pure data: no sqlglot trees are built here, only the classes to recognise them.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.expressions.datatypes import DType

__all__ = [
    "ALLOWED_CAST_TYPES",
    "ALLOWED_NODES",
    "BINDS",
    "BIND_TYPES",
    "DEFAULT_ALLOWED_FUNCTIONS",
    "DEFAULT_ALLOWED_TABLES",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_NESTING",
    "MAX_TREE_DEPTH",
    "REFUSED_OPERATORS",
    "node_classes",
]

BINDS: frozenset[str] = frozenset(
    {"business_unit", "contract_num", "milestone_id", "milestone_num", "as_of_date"}
)

#: The type class of each bind as the engine binds it (``:as_of_date`` is a real date parameter).
BIND_TYPES: dict[str, str] = {
    "business_unit": "text",
    "contract_num": "text",
    "milestone_id": "text",
    "milestone_num": "integer",
    "as_of_date": "date",
}

DEFAULT_ALLOWED_TABLES: frozenset[str] = frozenset(
    {
        "business_unit",
        "contract",
        "contract_line",
        "contract_attribute",
        "milestone",
        "milestone_condition",
        "plan",
        "plan_event",
        "project_activity",
        "activity_status_history",
    }
)

#: Pure functions that give the same result on SQLite and PostgreSQL when used as the portability rules
#: allow (argument types, literal arguments). Names as a condition writes them, lower case; a name
#: sqlglot knows under several spellings (``substr``/``substring``) matches any of them.
DEFAULT_ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    {
        # text (ASCII case folding only on SQLite, see the README)
        "lower",
        "upper",
        "length",
        "substr",
        "substring",
        "trim",
        "ltrim",
        "rtrim",
        "replace",
        # NULL handling
        "coalesce",
        "nullif",
        # numbers
        "abs",
        # dates: EXTRACT(YEAR|MONTH|DAY FROM date), translated to strftime() on SQLite
        "extract",
        # aggregates (min/max with one argument)
        "count",
        "sum",
        "avg",
        "min",
        "max",
        # window functions
        "row_number",
        "rank",
        "dense_rank",
    }
)

#: Characters a condition's text may have; checked before the text is tokenized or parsed, so a 1 MB
#: text is refused in microseconds instead of taking minutes to parse.
DEFAULT_MAX_LENGTH = 8_000
#: Parentheses open at once, counted on the tokens (so parentheses in strings and comments do not count).
DEFAULT_MAX_NESTING = 32
#: Depth of sqlglot's tree. A long ``a AND b AND ...`` chain nests without parentheses; deep trees make
#: sqlglot's generator and SQLite's parser (SQLITE_MAX_EXPR_DEPTH 1000) fail, PostgreSQL's not.
MAX_TREE_DEPTH = 120

#: Cast targets a condition may use, by sqlglot type, and the type class they give. Lengths and
#: precisions are refused separately (``VARCHAR(3)`` truncates on PostgreSQL only).
ALLOWED_CAST_TYPES: dict[DType, str] = {
    DType.INT: "integer",
    DType.BIGINT: "integer",
    DType.TEXT: "text",
    DType.VARCHAR: "text",
    DType.DECIMAL: "decimal",
    DType.DOUBLE: "float",
    DType.DATE: "date",
}


def node_classes(*names: str) -> tuple[type[exp.Expr], ...]:
    """Resolve expression classes by name, skipping any this sqlglot version does not have."""
    found = (getattr(exp, name, None) for name in names)
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, exp.Expr))


#: The constructs (node classes of sqlglot's tree) a condition may contain besides allowed functions.
#: The ones marked "checked" have rules in :mod:`conditions.sql_rules.portable`.
ALLOWED_NODES: tuple[type[exp.Expr], ...] = node_classes(
    # query structure
    "Select", "Union", "Intersect", "Except", "From", "Join", "Where", "Having", "Group", "Order",
    "Ordered", "Limit", "Offset", "With", "CTE", "Subquery", "TableAlias", "Alias", "Table", "Column",
    "Identifier", "Star", "Distinct", "Window", "Paren",
    # values (Literal: checked; Placeholder: a named bind)
    "Literal", "Null", "Boolean", "Placeholder",
    # predicates and logic (comparisons, LIKE, IN, BETWEEN: checked)
    "And", "Or", "Not", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is", "NullSafeEQ", "NullSafeNEQ",
    "Exists", "In", "Between", "Like", "Escape", "Case", "If",
    # arithmetic and text (checked)
    "Add", "Sub", "Mul", "Div", "Mod", "Neg", "DPipe",
    # CAST and its target type, INTERVAL and its unit, EXTRACT's unit (checked)
    "Cast", "DataType", "DataTypeParam", "Interval", "Var",
)  # fmt: skip

#: Operators that are refused with what to write instead, by sqlglot class name.
REFUSED_OPERATORS: dict[str, str] = {
    "ILike": "ILIKE is not allowed: write lower(x) LIKE 'pattern in lower case'",
    "ILikeAny": "ILIKE ANY is not allowed: write lower(x) LIKE 'a%' OR lower(x) LIKE 'b%'",
    "LikeAny": "LIKE ANY is not allowed: write x LIKE 'a%' OR x LIKE 'b%'",
    "SimilarTo": "SIMILAR TO is not allowed (PostgreSQL only): write LIKE",
    "RegexpLike": "regular expression operators (~, REGEXP) are not allowed: write LIKE",
    "RegexpILike": "regular expression operators (~*) are not allowed: write lower(x) LIKE",
    "Glob": "GLOB is not allowed (SQLite only): write LIKE",
    "Match": "MATCH is not allowed (SQLite only): write LIKE",
    "JSONExtract": "JSON operators (->, #>) are not allowed",
    "JSONExtractScalar": "JSON operators (->>, #>>) are not allowed",
    "JSONBExtract": "JSON operators are not allowed",
    "JSONBExtractScalar": "JSON operators are not allowed",
    "JSONBContains": "JSON operators (@>, ?) are not allowed",
    "ArrayContains": "array operators (@>) are not allowed",
    "ArrayContainsAll": "array operators (@>) are not allowed",
    "ArrayContained": "array operators (<@) are not allowed",
    "ArrayOverlaps": "array operators (&&) are not allowed",
    "BitwiseAnd": "bitwise operators (&) are not allowed",
    "BitwiseOr": "bitwise operators (|) are not allowed",
    "BitwiseXor": "bitwise operators (#) are not allowed",
    "BitwiseNot": "bitwise operators (~) are not allowed",
    "BitwiseLeftShift": "bitwise operators (<<) are not allowed",
    "BitwiseRightShift": "bitwise operators (>>) are not allowed",
    "Pow": "^ is not allowed (power on PostgreSQL, XOR elsewhere): write x * x",
    "Any": "ANY/SOME is not allowed (PostgreSQL only): write IN (...) or EXISTS (...)",
    "All": "ALL is not allowed (PostgreSQL only): write NOT EXISTS (...)",
    "Collate": "COLLATE is not allowed (collation names differ between the databases)",
    "Overlaps": "OVERLAPS is not allowed (PostgreSQL only): compare the dates",
    "Tuple": "row values like (a, b) are not allowed: compare each column",
    "Array": "arrays are not allowed (PostgreSQL only)",
    "Struct": "row constructors are not allowed",
    "Filter": "aggregate FILTER (WHERE ...) is not allowed: write sum(CASE WHEN ... THEN 1 ELSE 0 END)",
    "Lateral": "LATERAL is not allowed: write a subquery or a join",
    "Values": "VALUES lists are not allowed: write SELECT ... UNION ALL SELECT ...",
    "Fetch": "FETCH FIRST is not allowed: write LIMIT",
    "TableSample": "TABLESAMPLE is not allowed (random rows give random verdicts)",
    "Dot": "qualified names like schema.function() or a.b.c are not allowed",
    "HexString": "hex literals are not allowed: write a number or a 'text' literal",
    "ByteString": "escape-string literals (E'...') are not allowed: write a plain 'text' literal",
    "BitString": "bit-string literals are not allowed",
    "RawString": "dollar-quoted or raw strings are not allowed: write a plain 'text' literal",
    "National": "national strings (N'...') are not allowed: write a plain 'text' literal",
    "Parameter": "parameters are not allowed: use named binds like :contract_num",
    "Rollup": "ROLLUP is not allowed",
    "Cube": "CUBE is not allowed",
    "GroupingSets": "GROUPING SETS is not allowed",
    "WindowSpec": "window frames (ROWS/RANGE BETWEEN) are not allowed",
    "TryCast": "TRY_CAST is not allowed: write CAST",
}
