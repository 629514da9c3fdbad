"""Click parameter types for the domain's keys and dates, and the one way a command reports what it did.

A malformed key or date is bad input, not a refusal: the types raise :class:`contracts.errors.InvalidInput`
(exit 2) with the same message the services use, so the CLI and load files word it alike.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from contracts.errors import InvalidInput
from contracts.keys import ContractKey, MilestoneKey, parse_date
from contracts.limits import INT32_MAX, INT64_MAX, MAX_DAYS, check_int, excerpt
from ms_prcs.cli.context import AppContext
from ms_prcs.cli.output import print_json


class ContractKeyType(click.ParamType[ContractKey]):
    name = "BU/CONTRACT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> ContractKey:
        return value if isinstance(value, ContractKey) else ContractKey.parse(str(value))


class MilestoneKeyType(click.ParamType[MilestoneKey]):
    name = "BU/CONTRACT/MS_ID/NUM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> MilestoneKey:
        return value if isinstance(value, MilestoneKey) else MilestoneKey.parse(str(value))


class DateType(click.ParamType[dt.date]):
    """ISO dates only (``2026-11-23``), like everywhere else in ms-prcs."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        what = param.opts[0] if param is not None and param.opts else "date"
        return parse_date(str(value), what)


class WholeNumber(click.ParamType[int]):
    """A whole number that fits its column on every database (``Integer`` is 32 bits on PostgreSQL), so
    ``runs show 99999999999999999999`` is bad input (exit 2) naming the value and the range, not a
    traceback, and never reaches the database."""

    name = "INTEGER"

    def __init__(self, minimum: int, maximum: int) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise InvalidInput(f"{_what(param)} {excerpt(value)} is not a valid integer") from None
        return check_int(number, _what(param), self.minimum, self.maximum)


def _what(param: click.Parameter | None) -> str:
    if param is None:
        return "value"
    return param.opts[0] if param.opts and param.opts[0].startswith("-") else (param.name or "value").upper()


def whole(minimum: int = 0, maximum: int = INT32_MAX) -> WholeNumber:
    return WholeNumber(minimum, maximum)


DAYS = whole(0, MAX_DAYS)
"""Day counts (deadlines): :data:`contracts.limits.MAX_DAYS` at most."""
DAYS_LAG = whole(-MAX_DAYS, MAX_DAYS)
"""Days Lag: the domain refuses a negative one with its own message (:class:`contracts.specs.ConditionSpec`)."""
CURSOR = whole(0, INT64_MAX)
"""Feed cursors are 64-bit."""
CONTRACT_KEY = ContractKeyType()
MILESTONE_KEY = MilestoneKeyType()
DATE = DateType()


def condition_arguments(f: click.decorators.FC) -> click.decorators.FC:
    """``KEY SEQ``: a milestone and the sequence number of one of its conditions, as every command on a
    single condition names it."""
    return click.argument("key", type=MILESTONE_KEY)(click.argument("seq", type=whole(1))(f))


def done(app: AppContext, message: str, **data: Any) -> None:
    """Report a change: one line for people, the changed object's data for programs (``--json``)."""
    if app.json_output:
        print_json(data)
    else:
        click.echo(message)


def plural(count: int, noun: str) -> str:
    """``1 condition``, ``3 conditions``: messages read as sentences."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def parse_amount(text: str, what: str = "--amount") -> Decimal:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation as exc:
        raise InvalidInput(f"{what} {text!r} is not a number (e.g. 12000.00)") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{what} {text!r} is not a number (e.g. 12000.00)")
    return amount


def parse_assignments(values: tuple[str, ...], what: str) -> dict[str, str]:
    """``NAME=VALUE`` options (``--attr region=EMEA``) into a dict; the value may itself contain ``=``."""
    result: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{what} {value!r} is not of the form NAME=VALUE")
        result[name.strip()] = rest
    return result
