"""One verdict whatever the database: refuse constructs whose meaning differs between SQLite and PostgreSQL.

Each rule was found by running the construct on both databases (see ``tests/fixtures/sql/portable``
and the README's "write this instead" table). A rule refuses only what it can see in the tree: a type
the inference of :mod:`conditions.sql_rules.types` cannot tell (a column of a table outside the ms-prcs
schema) passes, and the message of every refusal says what to write instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

from sqlglot import exp

from conditions.sql_rules.allowed import ALLOWED_CAST_TYPES
from conditions.sql_rules.types import NUMBERS, Types

__all__ = ["Refuse", "check_portable", "interval_days"]

Refuse = Callable[[str, exp.Expr], Exception]

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_ORDERING = (exp.GT, exp.GTE, exp.LT, exp.LTE)
_EQUALITY = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
_TEXT_ARG = (exp.Lower, exp.Upper, exp.Length, exp.Trim, exp.Substring, exp.Replace)
_FLOATING = frozenset({"decimal", "float"})
_DATE_LITERAL = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")
_DAY_UNITS = {"DAY": 1, "DAYS": 1, "WEEK": 7, "WEEKS": 7}
_EXTRACT_UNITS = frozenset({"YEAR", "MONTH", "DAY"})

_COLLATION = (
    "orders text, which depends on PostgreSQL's collation (SQLite compares bytes): compare text with "
    "=, <>, IN or LIKE, or compare dates (CAST(x AS DATE)) or numbers (CAST(x AS INTEGER))"
)
_MIXED = {
    frozenset({"text", "number"}): "compares text with a number ('1' = 1 is true on PostgreSQL, false "
    "on SQLite): make both sides the same type, e.g. CAST(x AS INTEGER) = 1 or x = '1'",
    frozenset({"text", "date"}): "compares text with a date: write DATE 'YYYY-MM-DD' or CAST(x AS DATE)",
    frozenset({"text", "boolean"}): "compares text with a boolean ('true'::boolean differs): write TRUE, "
    "FALSE or the condition itself",
    frozenset({"number", "boolean"}): "compares a number with a boolean (TRUE = 1 is an error on "
    "PostgreSQL): write TRUE or FALSE",
    frozenset({"date", "number"}): "compares a date with a number: compare with a date, e.g. "
    ":as_of_date + INTERVAL '30 days'",
    frozenset({"date", "timestamp"}): "compares a date with a timestamp (stored as text on SQLite): "
    "write CAST(x AS DATE)",
    frozenset({"date", "boolean"}): "compares a date with a boolean",
    frozenset({"text", "timestamp"}): "compares text with a timestamp: write CAST(x AS DATE) = DATE '...'",
    frozenset({"number", "timestamp"}): "compares a timestamp with a number",
    frozenset({"boolean", "timestamp"}): "compares a timestamp with a boolean",
}


def _family(kind: str | None) -> str | None:
    if kind in NUMBERS:
        return "number"
    return None if kind in (None, "null") else kind


def interval_days(interval: exp.Interval) -> int | None:
    """The number of days of ``INTERVAL 'n days'`` / ``'n weeks'``, or None for any other interval."""
    value, unit = interval.this, interval.args.get("unit")
    if not isinstance(value, exp.Literal) or not isinstance(unit, exp.Var):
        return None
    factor = _DAY_UNITS.get(str(unit.this).upper())
    text = str(value.this).strip()
    if factor is None or not re.fullmatch(r"[+-]?\d{1,5}", text):
        return None
    return int(text) * factor


class _Rules:
    def __init__(self, types: Types, refuse: Refuse) -> None:
        self.types = types
        self.refuse = refuse

    def kind(self, node: exp.Expr | None) -> str | None:
        return self.types.of(node)

    def same_family(self, nodes: list[exp.Expr], at: exp.Expr, what: str) -> None:
        """All of ``nodes`` are of one type family (or unknown), else refuse naming the first pair."""
        seen: str | None = None
        for node in nodes:
            family = _family(self.kind(node))
            if family is None:
                continue
            if seen is None:
                seen = family
            elif family != seen:
                reason = _MIXED.get(frozenset({seen, family}), f"mixes {seen} and {family}")
                raise self.refuse(f"{what} {reason}".strip(), at)

    def boolean(self, node: exp.Expr | None, where: str) -> None:
        kind = self.kind(node)
        if node is not None and kind not in (None, "null", "boolean"):
            raise self.refuse(
                f"{where} must be a condition, found {kind} (WHERE 1 is an error on PostgreSQL): "
                "write a comparison such as x = 1",
                node,
            )

    # -- the rules, one method per construct -----------------------------------------------------

    def comparison(self, node: exp.Binary) -> None:
        left, right = node.this, node.expression
        self.same_family([left, right], node, "")
        if isinstance(node, _ORDERING) and "text" in (self.kind(left), self.kind(right)):
            raise self.refuse(f"the comparison {_COLLATION}", node)
        if isinstance(node, _EQUALITY):
            for side in (left, right):
                computed = isinstance(side, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Sum, exp.Avg))
                if computed and self.kind(side) in _FLOATING:
                    raise self.refuse(
                        "= tests computed decimals for equality (0.1 + 0.2 = 0.3 is true "
                        "on PostgreSQL, false on SQLite's floating point): write abs(a - b) < 0.005",
                        node,
                    )

    def in_(self, node: exp.In) -> None:
        query = node.args.get("query")
        items = [node.this, *node.expressions, *([query] if query is not None else [])]
        self.same_family(items, node, "IN")
        if node.args.get("unnest") or node.args.get("field"):
            raise self.refuse("IN UNNEST(...) is not allowed: write IN (...)", node)

    def between(self, node: exp.Between) -> None:
        items = [node.this, node.args["low"], node.args["high"]]
        self.same_family(items, node, "BETWEEN")
        if "text" in {self.kind(i) for i in items}:
            raise self.refuse(f"BETWEEN {_COLLATION}", node)

    def like(self, node: exp.Like) -> None:
        subject, pattern, escape = node.this, node.expression, None
        if isinstance(node.parent, exp.Escape) and node.parent.this is node:
            escape = node.parent.expression
        if _family(self.kind(subject)) not in (None, "text"):
            raise self.refuse("LIKE applies to text: write CAST(x AS TEXT) LIKE ...", node)
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise self.refuse("the LIKE pattern must be a 'text' literal (its case rules are checked)", node)
        text = str(pattern.this)
        if not text.isascii():
            raise self.refuse(
                "the LIKE pattern must be ASCII (SQLite folds the case of ASCII letters only)", pattern
            )
        if "\\" in text and escape is None:
            raise self.refuse(
                "backslash in a LIKE pattern escapes on PostgreSQL only: write LIKE 'a!_%' ESCAPE '!'",
                pattern,
            )
        if escape is not None and not (
            isinstance(escape, exp.Literal) and escape.is_string and len(str(escape.this)) == 1
        ):
            raise self.refuse("ESCAPE must be one character in a 'text' literal", node)
        letters = {c for c in text if c.isalpha()}
        if not letters:
            return
        if isinstance(subject, exp.Lower) and all(c.islower() for c in letters):
            return
        if isinstance(subject, exp.Upper) and all(c.isupper() for c in letters):
            return
        raise self.refuse(
            "LIKE is case-insensitive on SQLite and case-sensitive on PostgreSQL: write "
            "lower(x) LIKE 'pattern in lower case' (or upper(x) LIKE 'PATTERN IN UPPER CASE')",
            node,
        )

    def add_sub(self, node: exp.Add | exp.Sub) -> None:
        left, right = node.this, node.expression
        lk, rk = self.kind(left), self.kind(right)
        op = "+" if isinstance(node, exp.Add) else "-"
        if isinstance(left, exp.Interval):
            raise self.refuse("write the date first: date + INTERVAL 'n days'", node)
        if isinstance(right, exp.Interval):
            if interval_days(right) is None:
                raise self.refuse(
                    "only INTERVAL 'n days' or 'n weeks' is allowed (months and years differ at month "
                    "ends: SQLite makes 2026-01-31 + 1 month 2026-03-03, PostgreSQL 2026-02-28)",
                    right,
                )
            if lk != "date":
                raise self.refuse(
                    "INTERVAL can only be added to a date (a date column, :as_of_date, DATE '2026-06-15' "
                    "or CAST(x AS DATE))",
                    node,
                )
            return
        if "date" in (lk, rk) or "timestamp" in (lk, rk):
            if op == "-" and lk == rk == "date":
                raise self.refuse(
                    "date - date differs (days on PostgreSQL, 0 on SQLite): compare instead, e.g. "
                    "a > b + INTERVAL '30 days'",
                    node,
                )
            raise self.refuse(
                f"date {op} number differs (PostgreSQL adds days, SQLite adds to the year): write "
                f"date {op} INTERVAL '30 days'",
                node,
            )
        self.numbers(node, [left, right], op)

    def numbers(self, node: exp.Expr, operands: list[exp.Expr], op: str) -> None:
        for operand in operands:
            family = _family(self.kind(operand))
            if family not in (None, "number"):
                raise self.refuse(
                    f"{op} needs numbers, found {family} (write CAST(x AS INTEGER) or CAST(x AS NUMERIC))",
                    node,
                )

    def div(self, node: exp.Div) -> None:
        dividend, divisor = node.this, node.expression
        self.numbers(node, [dividend, divisor], "/")
        zero_safe = isinstance(divisor, exp.Nullif) or (
            isinstance(divisor, exp.Literal) and not divisor.is_string and float(divisor.this) != 0
        )
        kinds = (self.kind(dividend), self.kind(divisor))
        exact = "float" in kinds or kinds == ("integer", "integer")
        if not (zero_safe and exact):
            raise self.refuse(
                "division differs (x / 0 is an error on PostgreSQL and NULL on SQLite; decimals "
                "divide exactly on PostgreSQL only): write CAST(a AS DOUBLE PRECISION) / NULLIF(b, 0)",
                node,
            )

    def mod(self, node: exp.Mod) -> None:
        divisor = node.expression
        literal = isinstance(divisor, exp.Literal) and not divisor.is_string
        if not (
            self.kind(node.this) == "integer"
            and literal
            and str(divisor.this).isdigit()
            and int(divisor.this) > 0
        ):
            raise self.refuse(
                "% differs (on decimals and x % 0): only integer % positive integer literal is allowed",
                node,
            )

    def dpipe(self, node: exp.DPipe) -> None:
        for side in (node.this, node.expression):
            kind = self.kind(side)
            if kind not in (None, "null", "text"):
                raise self.refuse(
                    f"|| needs text on both sides, found {kind} (1 || 2 is an error on PostgreSQL): "
                    "write CAST(x AS TEXT) for integers",
                    node,
                )

    def neg(self, node: exp.Neg) -> None:
        self.numbers(node, [node.this], "unary -")

    def cast(self, node: exp.Cast) -> None:
        target = node.to
        if not isinstance(target, exp.DataType) or target.this not in ALLOWED_CAST_TYPES:
            shown = target.sql(dialect="postgres") if isinstance(target, exp.Expr) else "?"
            raise self.refuse(
                f"type {shown} is not allowed in CAST (allowed: INTEGER, BIGINT, NUMERIC, DOUBLE "
                "PRECISION, TEXT, VARCHAR, DATE)"
                + ("; for booleans write TRUE, FALSE or the condition itself" if "BOOL" in shown else ""),
                node,
            )
        if target.expressions:
            raise self.refuse(
                f"CAST to {target.sql(dialect='postgres')} with a length or precision differs (SQLite "
                "ignores it): leave it out",
                node,
            )
        to = ALLOWED_CAST_TYPES[target.this]
        source = node.this
        kind = self.kind(source)
        if isinstance(source, exp.Literal) and source.is_string:
            self.cast_literal(node, str(source.this), to)
        if kind == "boolean" or (kind in ("date", "timestamp") and to != "date"):
            raise self.refuse(f"CAST of a {kind} to {to} differs between the databases", node)
        if kind in _FLOATING and to == "integer":
            raise self.refuse(
                "CAST of a decimal to an integer rounds on PostgreSQL and truncates on SQLite: "
                "compare the number itself",
                node,
            )
        if kind in _FLOATING and to == "text":
            raise self.refuse("CAST of a decimal to text differs (1.50 or 1.5): compare numbers", node)
        if kind in NUMBERS and to == "date":
            raise self.refuse("CAST of a number to a date is not allowed", node)

    def cast_literal(self, node: exp.Cast, text: str, to: str) -> None:
        if to == "date":
            if not _DATE_LITERAL.fullmatch(text) or not _is_date(text):
                raise self.refuse(
                    f"date literal '{text}' must be a real date written YYYY-MM-DD (SQLite reads no other form)",
                    node,
                )
        elif to == "integer" and not _INTEGER_TEXT.fullmatch(text):
            raise self.refuse(f"'{text}' is not an integer (an error on PostgreSQL, 0 on SQLite)", node)
        elif to in ("decimal", "float") and not _NUMBER_TEXT.fullmatch(text):
            raise self.refuse(f"'{text}' is not a number (an error on PostgreSQL, 0 on SQLite)", node)

    def function(self, node: exp.Func) -> None:
        if isinstance(node, _TEXT_ARG):
            family = _family(self.kind(node.this))
            if family not in (None, "text"):
                raise self.refuse(
                    f"{node.sql_name().lower()}() needs text, found {family}: write CAST(x AS TEXT)", node
                )
        if isinstance(node, exp.Substring):
            start, length = node.args.get("start"), node.args.get("length")
            if not _positive_literal(start) or (length is not None and not _positive_literal(length, 0)):
                raise self.refuse(
                    "substr() needs a literal start >= 1 and length >= 0 (negative positions differ)", node
                )
        if isinstance(node, (exp.Coalesce, exp.Nullif)):
            items = [node.this, *node.expressions, node.args.get("expression")]
            self.same_family([i for i in items if i is not None], node, node.sql_name().lower() + "()")
        if isinstance(node, (exp.Max, exp.Min)):
            if node.expressions:
                raise self.refuse(
                    f"{node.sql_name().lower()}() with several arguments is SQLite only (and NULLs "
                    "differ from greatest/least): write CASE WHEN a > b THEN a ELSE b END",
                    node,
                )
            if self.kind(node.this) == "text":
                raise self.refuse(f"{node.sql_name().lower()}() of text {_COLLATION}", node)
        if isinstance(node, (exp.Abs, exp.Sum, exp.Avg)):
            self.numbers(node, [node.this], node.sql_name().lower() + "()")
        if isinstance(node, exp.Extract):
            unit = node.this
            if not isinstance(unit, exp.Var) or str(unit.this).upper() not in _EXTRACT_UNITS:
                raise self.refuse("EXTRACT allows YEAR, MONTH and DAY only", node)
            if self.kind(node.expression) != "date":
                raise self.refuse("EXTRACT needs a date: write EXTRACT(MONTH FROM CAST(x AS DATE))", node)

    def case(self, node: exp.Case) -> None:
        ifs = node.args.get("ifs") or []
        results = [i.args.get("true") for i in ifs] + [node.args.get("default")]
        self.same_family([r for r in results if r is not None], node, "CASE")
        operand = node.this
        if operand is not None:
            self.same_family([operand, *(i.this for i in ifs)], node, "CASE")
        else:
            for branch in ifs:
                self.boolean(branch.this, "CASE WHEN")

    def ordered(self, node: exp.Ordered) -> None:
        if self.kind(node.this) == "text":
            raise self.refuse(f"ORDER BY {_COLLATION}", node)

    def limit(self, node: exp.Limit | exp.Offset) -> None:
        value = node.expression
        if not (isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit()):
            raise self.refuse(f"{node.key.upper()} must be a non-negative integer literal", node)

    def set_operation(self, node: exp.SetOperation) -> None:
        left, right = _selects(node.left), _selects(node.right)
        if left is not None and right is not None and len(left) == len(right):
            for a, b in zip(left, right, strict=True):
                self.same_family([a, b], node, f"{node.key.upper()} column")

    def is_(self, node: exp.Is) -> None:
        if not isinstance(node.expression, (exp.Null, exp.Boolean)):
            raise self.refuse("IS takes NULL, TRUE or FALSE: write IS NOT DISTINCT FROM x", node)
        if isinstance(node.expression, exp.Boolean):
            self.boolean(node.this, "IS TRUE/FALSE")


def _selects(query: exp.Expr) -> list[exp.Expr] | None:
    while isinstance(query, exp.Subquery):
        query = query.this
    return list(query.selects) if isinstance(query, exp.Select) else None


def _positive_literal(node: exp.Expr | None, minimum: int = 1) -> bool:
    return (
        isinstance(node, exp.Literal)
        and not node.is_string
        and str(node.this).isdigit()
        and int(node.this) >= minimum
    )


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _post_order(tree: exp.Expr) -> Iterator[exp.Expr]:
    """Children before their parent, left to right: the most specific rule speaks first, and the first
    problem in the text before later ones."""
    stack: list[tuple[exp.Expr, bool]] = [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node.iter_expressions())))


def check_portable(tree: exp.Expr, types: Types, refuse: Refuse) -> None:
    """Refuse the first construct of ``tree`` whose verdict could differ between SQLite and PostgreSQL."""
    rules = _Rules(types, refuse)
    for node in _post_order(tree):
        if isinstance(node, _COMPARISONS):
            rules.comparison(node)
        elif isinstance(node, exp.In):
            rules.in_(node)
        elif isinstance(node, exp.Between):
            rules.between(node)
        elif isinstance(node, exp.Like):
            rules.like(node)
        elif isinstance(node, (exp.Add, exp.Sub)):
            rules.add_sub(node)
        elif isinstance(node, exp.Mul):
            rules.numbers(node, [node.this, node.expression], "*")
        elif isinstance(node, exp.Div):
            rules.div(node)
        elif isinstance(node, exp.Mod):
            rules.mod(node)
        elif isinstance(node, exp.DPipe):
            rules.dpipe(node)
        elif isinstance(node, exp.Neg):
            rules.neg(node)
        elif isinstance(node, exp.Cast):
            rules.cast(node)
        elif isinstance(node, exp.Case):
            rules.case(node)
        elif isinstance(node, exp.Is):
            rules.is_(node)
        elif isinstance(node, exp.Ordered):
            rules.ordered(node)
        elif isinstance(node, (exp.Limit, exp.Offset)):
            rules.limit(node)
        elif isinstance(node, exp.SetOperation):
            rules.set_operation(node)
        elif isinstance(node, exp.Func):
            rules.function(node)
        if isinstance(node, (exp.Where, exp.Having)):
            rules.boolean(node.this, node.key.upper())
        elif isinstance(node, exp.Join) and node.args.get("on") is not None:
            rules.boolean(node.args["on"], "JOIN ... ON")
        elif isinstance(node, (exp.And, exp.Or)):
            rules.boolean(node.this, node.key.upper())
            rules.boolean(node.expression, node.key.upper())
        elif isinstance(node, exp.Not):
            rules.boolean(node.this, "NOT")
        elif isinstance(node, exp.Interval) and not (
            isinstance(node.parent, (exp.Add, exp.Sub)) and node.parent.expression is node
        ):
            raise refuse("INTERVAL is allowed only as date + INTERVAL 'n days' or date - INTERVAL", node)
