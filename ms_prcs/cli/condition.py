"""Milestone conditions: every verb of ``condition``: ``add|update|delete`` (milestone Pending) and
``complete|undo`` (Mark Complete, through the approval layer's entry point, which refuses approvals).

Each command is parse, one service call in one transaction, print; the rules live in ``contracts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from contracts import milestones as services
from contracts.keys import MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource
from ms_prcs import views
from ms_prcs.approvals import hooks
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import DATE, DAYS_LAG, MILESTONE_KEY, condition_arguments, done

F = TypeVar("F", bound=Callable[..., Any])

CONDITION_TYPES: dict[str, ConditionType] = {
    "date": ConditionType.DATE,
    "sql": ConditionType.SQL,
    "user": ConditionType.USER,
    "milestone": ConditionType.MILESTONE,
}


SOURCES: dict[str, MilestoneSource] = {
    "contracts": MilestoneSource.CONTRACTS,
    "projects": MilestoneSource.PROJECTS,
}


@main.group()
def condition() -> None:
    """Milestone conditions: add, update, delete (milestone Pending); complete, undo (Mark Complete)."""


def condition_options(f: F) -> F:
    """The fields of a condition, shared by ``condition add`` and ``condition update``."""
    options = [
        click.option(
            "--type",
            "condition_type",
            required=True,
            type=click.Choice(list(CONDITION_TYPES), case_sensitive=False),
            help="Condition type: date, sql, user (User Initiated) or milestone.",
        ),
        click.option("--date", "condition_date", type=DATE, help="Date: met on or after this date."),
        click.option(
            "--sql", "sql_text", help="SQL: a SELECT (or bare WHERE clause) that returns a row when met."
        ),
        click.option("--ref", type=MILESTONE_KEY, help="Milestone (Contracts): the milestone to wait for."),
        click.option(
            "--source",
            type=click.Choice(list(SOURCES), case_sensitive=False),
            help="Milestone: contracts (default) or projects (implied by --project/--activity).",
        ),
        click.option(
            "--days-lag", type=DAYS_LAG, default=0, show_default=True, help="Milestone: days to wait after."
        ),
        click.option("--project", "project_id", help="Milestone (Projects): project id."),
        click.option("--activity", "activity_id", help="Milestone (Projects): activity id."),
        click.option("--activity-status", help="Milestone (Projects): the activity status to wait for."),
        click.option("--descr", default="", help="Description."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_spec(
    condition_type: str,
    condition_date: dt.date | None,
    sql_text: str | None,
    ref: MilestoneKey | None,
    source: str | None,
    days_lag: int,
    project_id: str | None,
    activity_id: str | None,
    activity_status: str | None,
    descr: str,
) -> ConditionSpec:
    """A ConditionSpec from the options; the services check that the fields fit the type."""
    project_given = any((project_id, activity_id, activity_status))
    chosen = SOURCES[source.lower()] if source else (MilestoneSource.PROJECTS if project_given else None)
    return ConditionSpec(
        condition_type=CONDITION_TYPES[condition_type.lower()],
        descr=descr,
        condition_date=condition_date,
        sql_text=sql_text,
        source=chosen,
        ref=ref,
        days_lag=days_lag,
        project_id=project_id,
        activity_id=activity_id,
        activity_status=activity_status,
    )


@condition.command("add")
@click.argument("key", type=MILESTONE_KEY)
@condition_options
@json_option
@pass_app
def condition_add(app: AppContext, /, key: MilestoneKey, **fields: Any) -> None:
    """Add a condition to a Pending milestone; it starts Ready. Prints its sequence number."""
    spec = make_spec(**fields)
    with app.session() as session:
        row = services.add_condition(session, key, spec, app.who())
        seq, target = row.condition_seq, views.condition_target(row, str(spec.ref) if spec.ref else None)
    done(
        app,
        f"condition {seq} added to milestone {key} ({spec.condition_type}: {target})",
        milestone=str(key),
        seq=seq,
        type=spec.condition_type,
    )


@condition.command("update")
@condition_arguments
@condition_options
@json_option
@pass_app
def condition_update(app: AppContext, /, key: MilestoneKey, seq: int, **fields: Any) -> None:
    """Replace all fields of condition SEQ (options not given are cleared); it is reset to Ready."""
    spec = make_spec(**fields)
    with app.session() as session:
        services.update_condition(session, key, seq, spec, app.who())
    done(
        app,
        f"condition {seq} of milestone {key} updated (Ready)",
        milestone=str(key),
        seq=seq,
        type=spec.condition_type,
    )


@condition.command("delete")
@condition_arguments
@json_option
@pass_app
def condition_delete(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Delete condition SEQ of a Pending milestone, whatever its status."""
    with app.session() as session:
        services.delete_condition(session, key, seq, app.who())
    done(app, f"condition {seq} of milestone {key} deleted", milestone=str(key), seq=seq)


@condition.command("complete")
@condition_arguments
@json_option
@pass_app
def condition_complete(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Mark Complete: a User Initiated condition of a Ready milestone is met."""
    with app.session() as session:
        row = hooks.mark_complete(session, key, seq, app.who())
        by, on = row.completed_by, row.completed_on
    done(
        app,
        f"condition {seq} of milestone {key} marked complete by {by}",
        milestone=str(key),
        seq=seq,
        status=row.condition_status,
        completed_by=by,
        completed_on=on,
    )


@condition.command("undo")
@condition_arguments
@json_option
@pass_app
def condition_undo(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Undo Mark Complete of a User Initiated condition, until the milestone is Completed."""
    with app.session() as session:
        row = hooks.undo_mark_complete(session, key, seq, app.who())
    done(
        app,
        f"Mark Complete of condition {seq} of milestone {key} undone (Ready)",
        milestone=str(key),
        seq=seq,
        status=row.condition_status,
    )
