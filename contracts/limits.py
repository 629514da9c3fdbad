"""The limits of every value ms-prcs stores, in one place, checked before the database sees the value.

SQLite stores a 10,000-character business unit or a 20-digit integer without a word, while PostgreSQL
refuses them ("value too long", "integer out of range"): the same command must not succeed on one database
and fail on the other. So the limits are read from the models' own columns (``String(5)`` is 5 characters,
``Integer`` is 32 bits, ``Numeric(15, 2)`` is below 10^13) and checked here, by the CLI's parameter types,
the load file's models and, as the last net, by :func:`check_flush` before every ORM flush. Every refusal is
:class:`InvalidInput` (exit 2) naming the field, the value and the rule.

Ranges that are rules rather than column sizes live here too: :data:`MAX_DAYS` for day counts (Days Lag,
deadlines), currencies as ISO 4217 codes (:data:`CURRENCIES`, shipped with the package).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from contracts.errors import InvalidInput

INT32_MAX = 2**31 - 1
"""The largest ``Integer`` on PostgreSQL (SQLite's are 64-bit): line, milestone and sequence numbers, ids."""
INT64_MAX = 2**63 - 1
MAX_DAYS = 36_500
"""Day counts (Days Lag, ``ready_by_days``, ``complete_by_days``): at most a century, so that a date plus
the count is still a date on both databases."""
MAX_TEXT = 1_000_000
"""Free text without a column length (SQL condition text, notes) is still bounded."""


def excerpt(value: object) -> str:
    """The value as a message shows it: quoted, and cut to 40 characters with its length when longer."""
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:20]!r}... ({len(value)} characters)"
    return repr(value)


def column_length(column: InstrumentedAttribute[Any] | sa.Column[Any]) -> int | None:
    """The length of a ``String(n)`` column (``None`` for unbounded text)."""
    col = column if isinstance(column, sa.Column) else column.property.columns[0]
    return getattr(col.type, "length", None)


def text_problem(text: str, max_length: int | None, *, required: bool = True) -> str | None:
    """What is wrong with ``text`` (already stripped) for a column of ``max_length``, or ``None``."""
    if required and not text:
        return "must not be empty"
    limit = MAX_TEXT if max_length is None else max_length
    if len(text) > limit:
        return f"at most {limit} characters, got {len(text)}"
    return None


def check_text(value: str, field: str, max_length: int | None, *, required: bool = True) -> str:
    """``value`` stripped; refused when blank (if ``required``) or longer than ``max_length``."""
    text = value.strip()
    if problem := text_problem(text, max_length, required=required):
        raise InvalidInput(f"{field} {excerpt(value)}: {problem}")
    return text


def int_problem(value: int, minimum: int = 0, maximum: int = INT32_MAX) -> str | None:
    if not minimum <= value <= maximum:
        return f"must be from {minimum} to {maximum}, got {excerpt(value)}"
    return None


def check_int(value: int, field: str, minimum: int = 0, maximum: int = INT32_MAX) -> int:
    if problem := int_problem(value, minimum, maximum):
        raise InvalidInput(f"{field}: {problem}")
    return value


AMOUNT_DIGITS, AMOUNT_PLACES = 15, 2
"""Amounts are ``Numeric(15, 2)``: below 10^13 in size, at most 2 decimal places."""
AMOUNT_MAX = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES) - Decimal("0.01")


def amount_problem(value: Decimal, *, credits: bool = False) -> str | None:
    """An amount of money is finite, has at most 2 decimal places, is at most :data:`AMOUNT_MAX` in size,
    and is more than 0 unless ``credits`` (a contract line may be a credit; an event, a threshold not)."""
    if not value.is_finite():
        return "must be a number (e.g. 12000.00)"
    if not credits and value <= 0:
        return f"must be more than 0, got {value}"
    lowest = -AMOUNT_MAX if credits else Decimal("0.01")
    if not lowest <= value <= AMOUNT_MAX:
        return f"must be from {lowest} to {AMOUNT_MAX}, got {value}"
    if value != round(value, AMOUNT_PLACES):
        return f"at most {AMOUNT_PLACES} decimal places, got {value}"
    return None


def check_amount(value: Decimal, field: str, *, credits: bool = False) -> Decimal:
    if problem := amount_problem(value, credits=credits):
        raise InvalidInput(f"{field}: {problem}")
    return value


PERCENT_PLACES = 4
"""Percentages are ``Numeric(7, 4)``: more than 0, at most 100, at most 4 decimal places."""


def percentage_problem(value: Decimal) -> str | None:
    if not value.is_finite() or not Decimal(0) < value <= Decimal(100):
        return f"a percentage must be more than 0 and at most 100, got {value}"
    if value != round(value, PERCENT_PLACES):
        return f"a percentage has at most {PERCENT_PLACES} decimal places, got {value}"
    return None


@functools.cache
def currencies() -> dict[str, str]:
    """ISO 4217 alphabetic codes and their names (``contracts/iso4217.txt``, from Debian's iso-codes)."""
    text = (Path(__file__).parent / "iso4217.txt").read_text(encoding="utf-8")
    rows = (line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {code: name for code, name in rows}


def currency_problem(code: str) -> str | None:
    if code.strip().upper() not in currencies():
        return f"{excerpt(code)} is not an ISO 4217 currency code (e.g. USD, EUR)"
    return None


def check_currency(value: str, field: str = "currency") -> str:
    """An ISO 4217 code, upper-cased (``usd`` is ``USD``)."""
    if problem := currency_problem(value):
        raise InvalidInput(f"{field}: {problem}")
    return value.strip().upper()


# --- the last net: every ORM row before it is flushed ---------------------------------------------------


def _key_columns(table: sa.Table) -> frozenset[str]:
    """Columns of the primary key and unique constraints: a key that is blank names nothing."""
    names = {c.name for c in table.primary_key.columns}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            names |= {c.name for c in constraint.columns}
    names |= {c.name for c in table.columns if c.unique}
    return frozenset(names)


def check_column(column: sa.Column[Any], value: Any, *, key: bool) -> None:
    """``value`` fits ``column`` on every database ms-prcs supports."""
    if value is None:
        return
    field = f"{column.table.name}.{column.name}"
    kind = column.type
    if isinstance(kind, sa.String) and isinstance(value, str):
        if key and not value.strip():
            raise InvalidInput(f"{field} {excerpt(value)}: must not be empty")
        limit = kind.length or MAX_TEXT
        if len(value) > limit:
            raise InvalidInput(f"{field} {excerpt(value)}: at most {limit} characters")
    elif isinstance(kind, sa.Integer) and isinstance(value, int) and not isinstance(value, bool):
        if isinstance(kind, sa.SmallInteger):
            check_int(value, field, -(2**15), 2**15 - 1)
        elif isinstance(kind, sa.BigInteger):
            check_int(value, field, -INT64_MAX - 1, INT64_MAX)
        else:
            check_int(value, field, -INT32_MAX - 1, INT32_MAX)
    elif isinstance(kind, sa.Numeric) and isinstance(value, Decimal | int) and kind.precision is not None:
        bound = Decimal(10) ** (kind.precision - (kind.scale or 0))
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidInput(f"{field} {excerpt(str(value))}: must be a number")
        if abs(Decimal(value)) >= bound:
            raise InvalidInput(f"{field} {excerpt(str(value))}: must be less than {bound} in size")


def check_flush(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """``before_flush`` hook: every new or changed row's values fit their columns, the same on SQLite and
    PostgreSQL, before the database sees them (so the message names the field, not the driver's error)."""
    for obj in [*session.new, *session.dirty]:
        state = sa.inspect(obj)
        mapper = state.mapper
        for table in mapper.tables:
            if not isinstance(table, sa.Table):
                continue
            keys = _key_columns(table)
            for attr in mapper.column_attrs:
                column = attr.columns[0]
                if not isinstance(column, sa.Column) or column.table is not table:
                    continue
                if obj in session.dirty and not state.attrs[attr.key].history.has_changes():
                    continue
                check_column(column, state.dict.get(attr.key), key=column.name in keys)
