"""``queue list|complete|set-date|ready|pending``: the work queue (PeopleSoft's "Update Milestone Condition
Status") and mass updates over its filter or a file of keys; each command is parse, one call of
:mod:`ms_prcs.workqueue`, print. A mass update that refused an item exits 1 after its report."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from contracts.errors import InvalidInput
from contracts.keys import MilestoneKey
from contracts.status import ConditionType, MilestoneStatus
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import format_table, print_json
from ms_prcs.cli.params import DATE
from ms_prcs.workqueue import mass, search
from ms_prcs.workqueue.search import QueueFilter

TYPES = {
    "date": ConditionType.DATE,
    "user": ConditionType.USER,
    "sql": ConditionType.SQL,
    "milestone": ConditionType.MILESTONE,
}


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The queue's filter, shared by the search and the mass updates."""
    options = [
        click.option("--bu", "business_unit", help="Business unit (required unless --file)."),
        click.option("--milestone-id", help="Milestone template id, e.g. MS001."),
        click.option("--est-from", type=DATE, help="Estimated completion on or after."),
        click.option("--est-to", type=DATE, help="Estimated completion on or before."),
        click.option(
            "--type",
            "condition_type",
            type=click.Choice(list(TYPES), case_sensitive=False),
            help="Has a Ready condition of this type.",
        ),
        click.option("--contract", "contract_num", help="Contract number."),
        click.option("--customer", help="Customer."),
        click.option("--reason", type=click.Choice(list(search.REASONS)), help="Why not complete."),
        click.option("--as-of", type=DATE, help="Decide the reasons as of this date (default: today)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _filter(business_unit: str | None, condition_type: str | None, **fields: Any) -> QueueFilter:
    if not business_unit:
        raise InvalidInput("--bu is required (or give --file with keys)")
    ctype = TYPES[condition_type.lower()] if condition_type else None
    return QueueFilter(business_unit=business_unit, condition_type=ctype, **fields)


@main.group()
def queue() -> None:
    """The work queue of Ready milestones and mass updates over it (or over a file of keys)."""


@queue.command("list")
@filter_options
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--page-size", type=int, default=50, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--no-explain", is_flag=True, help="Leave out the explanation's words (faster).")
@json_option
@pass_app
def queue_list(
    app: AppContext,
    /,
    as_of: dt.date | None,
    page: int,
    page_size: int,
    fmt: str,
    no_explain: bool,
    **fields: Any,
) -> None:
    """A business unit's Ready milestones, filtered, a page at a time, with why each is not complete."""
    queue_filter = _filter(**fields)
    with app.session() as session:
        found = search.search(
            session,
            queue_filter,
            as_of or app.settings.today(),
            page=page,
            page_size=page_size,
            rules=app.settings.sql_rules,
            timeout_s=app.settings.sql_timeout_s,
            explain=not no_explain,
        )
    if app.json_output or fmt == "json":
        print_json(found.to_json())
        return
    if fmt == "csv":
        click.echo(search.to_csv(found), nl=False)
        return
    rows = [{**r, "reasons": "; ".join(r["reasons"])} for r in found.rows]
    last = min(found.total, page * page_size)
    click.echo(
        f"{found.total} Ready milestones; showing {(page - 1) * page_size + 1 if rows else 0}-{last} (page {page})"
    )
    click.echo(format_table(rows, [c for c in search.QUEUE_FIELDS if c != "why" or not no_explain]))


def _mass_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")(f)
    f = click.option("--atomic", is_flag=True, help="All or nothing: one refusal and nothing changes.")(f)
    f = click.option(
        "--file",
        "key_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Keys, one a line, instead of the filter.",
    )(f)
    return filter_options(f)


def _report(app: AppContext, result: mass.MassResult) -> None:
    if app.json_output:
        print_json(result.to_json())
    else:
        click.echo(
            format_table([{"key": i.key, "outcome": i.outcome, "detail": i.detail} for i in result.items])
        )
        state = (
            "applied"
            if result.applied
            else ("dry run: nothing changed" if result.dry_run else "atomic: nothing changed")
        )
        click.echo(f"{result.operation}: {result.changed} changed, {result.refused} refused ({state})")
    if result.refused:
        sys.exit(1)


def _conditions(
    app: AppContext,
    session: Any,
    key_file: Path | None,
    as_of: dt.date | None,
    ctype: ConditionType,
    fields: dict[str, Any],
) -> list[mass.ConditionTarget]:
    if key_file is not None:
        return [mass.ConditionTarget.parse(k) for k in mass.read_keys(key_file.read_text().splitlines())]
    return mass.conditions_of(session, _filter(**fields), as_of or app.settings.today(), ctype)


def _milestones(
    app: AppContext, session: Any, key_file: Path | None, as_of: dt.date | None, fields: dict[str, Any]
) -> list[MilestoneKey]:
    if key_file is not None:
        return [MilestoneKey.parse(k) for k in mass.read_keys(key_file.read_text().splitlines())]
    return mass.milestones_of(session, _filter(**fields), as_of or app.settings.today())


@queue.command("complete")
@_mass_options
@json_option
@pass_app
def queue_complete(
    app: AppContext,
    /,
    key_file: Path | None,
    atomic: bool,
    dry_run: bool,
    as_of: dt.date | None,
    **fields: Any,
) -> None:
    """Mark Complete the User Initiated conditions of the filtered milestones (or of the file's
    BU/CONTRACT/MS_ID/NUM#SEQ keys)."""
    with app.session() as session:
        targets = _conditions(app, session, key_file, as_of, ConditionType.USER, fields)
        result = mass.mark_complete(session, targets, app.who(), atomic=atomic, dry_run=dry_run)
    _report(app, result)


@queue.command("set-date")
@_mass_options
@click.option("--date", "new_date", type=DATE, help="Assign this date.")
@click.option("--shift", type=int, help="Move the dates by this many days (negative: earlier).")
@json_option
@pass_app
def queue_set_date(
    app: AppContext,
    /,
    key_file: Path | None,
    atomic: bool,
    dry_run: bool,
    as_of: dt.date | None,
    new_date: dt.date | None,
    shift: int | None,
    **fields: Any,
) -> None:
    """Assign or move the dates of Date conditions (a Ready milestone is set Pending, changed and set Ready
    again, with its edit checks)."""
    with app.session() as session:
        targets = _conditions(app, session, key_file, as_of, ConditionType.DATE, fields)
        result = mass.set_condition_dates(
            session,
            targets,
            app.who(),
            app.settings.sql_rules,
            date=new_date,
            shift_days=shift,
            atomic=atomic,
            dry_run=dry_run,
        )
    _report(app, result)


def _status_command(verb: str, status: MilestoneStatus, help_text: str) -> None:
    @queue.command(verb, help=help_text)
    @_mass_options
    @json_option
    @pass_app
    def command(
        app: AppContext,
        /,
        key_file: Path | None,
        atomic: bool,
        dry_run: bool,
        as_of: dt.date | None,
        **fields: Any,
    ) -> None:
        with app.session() as session:
            keys = _milestones(app, session, key_file, as_of, fields)
            result = mass.set_milestone_status(
                session, keys, status, app.who(), app.settings.sql_rules, atomic=atomic, dry_run=dry_run
            )
        _report(app, result)


_status_command(
    "ready", MilestoneStatus.READY, "Set milestones Ready (the file's keys; the queue lists Ready ones only)."
)
_status_command("pending", MilestoneStatus.PENDING, "Set the filtered (or the file's) milestones Pending.")
