"""How much of a contract line an event is worth: a percentage or an amount, and when a plan totals 100 %.

Totals are compared in amount space (each percentage becomes ``line amount * percentage / 100``, exact in
``Decimal``), so 333.33 + 333.33 + 333.34 of a 1000.00 line is exactly 100 % while three thirds written as
33.3333 % are not: "exactly 100 %" means exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from contracts.errors import InvalidInput
from contracts.limits import check_amount, percentage_problem

HUNDRED = Decimal(100)


def check_share(obj: str, percentage: Decimal | None, amount: Decimal | None, *, required: bool) -> None:
    """Refuse both at once, and values that cannot be a share; ``required`` for templates, which are
    complete when written."""
    if percentage is not None and amount is not None:
        raise InvalidInput(f"{obj}: give a percentage or an amount, not both")
    if percentage is not None and (problem := percentage_problem(percentage)):
        raise InvalidInput(f"{obj}: {problem}")
    if amount is not None and amount <= 0:
        raise InvalidInput(f"{obj}: an amount must be more than 0, got {amount}")
    if amount is not None:
        check_amount(amount, f"{obj}: amount")
    if required and percentage is None and amount is None:
        raise InvalidInput(f"{obj}: an event needs a percentage or an amount")


def parse_share(text: str, obj: str) -> tuple[Decimal | None, Decimal | None]:
    """``40%`` is a percentage, ``1500.00`` an amount: one field on the command line and in load files."""
    raw = text.strip()
    is_percent = raw.endswith("%")
    try:
        value = Decimal(raw.rstrip("%").strip())
    except ArithmeticError as exc:
        raise InvalidInput(f"{obj}: {text!r} is neither a percentage (40%) nor an amount (1500.00)") from exc
    if not value.is_finite():
        raise InvalidInput(f"{obj}: {text!r} is neither a percentage (40%) nor an amount (1500.00)")
    return (value, None) if is_percent else (None, value)


def share_amount(line_amount: Decimal, percentage: Decimal | None, amount: Decimal | None) -> Decimal:
    if amount is not None:
        return amount
    if percentage is not None:
        return line_amount * percentage / HUNDRED
    return Decimal(0)


def total_percent(line_amount: Decimal, shares: Iterable[tuple[Decimal | None, Decimal | None]]) -> Decimal:
    """The shares as a percentage of the line, for people (rounded to 4 places)."""
    items = list(shares)
    if all(a is None for _, a in items):
        return sum((p or Decimal(0) for p, _ in items), Decimal(0))
    if line_amount <= 0:
        return Decimal(0)
    total = sum((share_amount(line_amount, p, a) for p, a in items), Decimal(0))
    return (total * HUNDRED / line_amount).quantize(Decimal("0.0001"))


def compare_to_whole(line_amount: Decimal, shares: Iterable[tuple[Decimal | None, Decimal | None]]) -> int:
    """-1, 0 or 1 as the shares total less than, exactly, or more than the whole line."""
    items = list(shares)
    if all(a is None for _, a in items) or line_amount <= 0:
        total, whole = sum((p or Decimal(0) for p, _ in items), Decimal(0)), HUNDRED
    else:
        total, whole = sum((share_amount(line_amount, p, a) for p, a in items), Decimal(0)), line_amount
    return (total > whole) - (total < whole)


def plain(value: Decimal) -> Decimal:
    """``100.0000`` -> ``100``, ``33.5000`` -> ``33.5``: stored scale is noise to a reader (and never an
    exponent, which ``normalize`` alone would give for 100)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def describe(percentage: Decimal | None, amount: Decimal | None) -> str:
    if percentage is not None:
        return f"{plain(percentage)} %"
    if amount is not None:
        return f"{amount:f}"
    return ""
