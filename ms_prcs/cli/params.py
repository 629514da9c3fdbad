"""Click parameter types for the domain's keys and dates, and the one way a command reports what it did.

A malformed key or date is bad input, not a refusal: the types raise :class:`contracts.errors.InvalidInput`
(exit 2) with the same message the services use, so the CLI and load files word it alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from contracts.keys import ContractKey, MilestoneKey, parse_date
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


CONTRACT_KEY = ContractKeyType()
MILESTONE_KEY = MilestoneKeyType()
DATE = DateType()


def done(app: AppContext, message: str, **data: Any) -> None:
    """Report a change: one line for people, the changed object's data for programs (``--json``)."""
    if app.json_output:
        print_json(data)
    else:
        click.echo(message)


def plural(count: int, noun: str) -> str:
    """``1 condition``, ``3 conditions``: messages read as sentences."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
