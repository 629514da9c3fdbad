"""Contract milestones and their conditions: ``milestone ...`` and ``condition ...`` commands.

Each command is parse, one service call in one transaction, print. The rules (status machine, edit checks,
references, classification) live in ``contracts`` and ``conditions``; this module only words the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from contracts import milestones as services
from contracts.keys import ContractKey, MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource, MilestoneStatus, RequiredConditions
from ms_prcs import views
from ms_prcs.approvals import gates as workflow_gates
from ms_prcs.approvals import hooks as workflow_hooks
from ms_prcs.approvals.hooks import make_milestone_ready
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, DATE, DAYS_LAG, MILESTONE_KEY, done, plural, whole

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
MILESTONE_STATUSES: dict[str, MilestoneStatus] = {s.value.lower(): s for s in MilestoneStatus}


@main.group()
def milestone() -> None:
    """Contract milestones (BU/CONTRACT/MS_ID/NUM): add, list, show, ready, pending, cancel."""


@milestone.command("add")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("milestone_id")
@click.option(
    "--template", "from_template", is_flag=True, help="Copy MILESTONE_ID's template and conditions."
)
@click.option("--descr", help="Description (default: the template's, or empty).")
@click.option(
    "--required",
    type=click.Choice(["all", "one"], case_sensitive=False),
    help="Complete when ALL conditions are met, or any ONE (default: the template's, or all).",
)
@click.option("--est-date", type=DATE, help="Estimated completion date.")
@click.option("--classification", help="Classification whose roles may change the milestone.")
@json_option
@pass_app
def milestone_add(
    app: AppContext,
    contract_key: ContractKey,
    milestone_id: str,
    from_template: bool,
    descr: str | None,
    required: str | None,
    est_date: dt.date | None,
    classification: str | None,
) -> None:
    """Add the next MILESTONE_ID milestone to a contract, Pending. Prints its key (…/MS_ID/NUM)."""
    with app.session() as session:
        row = workflow_hooks.add_milestone(
            session,
            contract_key,
            milestone_id,
            app.who(),
            from_template=from_template,
            descr=descr,
            required=RequiredConditions(required.upper()) if required else None,
            est_completion_date=est_date,
            classification=classification,
        )
        key, status, count = row.key, row.status, len(row.conditions)
    copied = f", {plural(count, 'condition')} copied from the template" if from_template else ""
    done(app, f"milestone {key} added ({status}{copied})", milestone=key, status=status, conditions=count)


@milestone.command("list")
@click.argument("contract_key", metavar="[BU/CONTRACT]", type=CONTRACT_KEY, required=False)
@click.option("--bu", "business_unit", help="Only this business unit.")
@click.option(
    "--status", type=click.Choice(list(MILESTONE_STATUSES), case_sensitive=False), help="Only this status."
)
@click.option("--gate", help="Only milestones of this stage gate.")
@click.option("--gate-status", help="Only milestones whose stage gate is Not Started, Active or Complete.")
@json_option
@pass_app
def milestone_list(
    app: AppContext,
    contract_key: ContractKey | None,
    business_unit: str | None,
    status: str | None,
    gate: str | None = None,
    gate_status: str | None = None,
) -> None:
    """List milestones (of one contract, or all), with completed/total conditions."""
    with app.session() as session:
        rows = views.list_milestones(
            session,
            contract=contract_key,
            business_unit=business_unit,
            status=MILESTONE_STATUSES[status.lower()] if status else None,
        )
        rows = workflow_gates.annotate_milestones(session, rows, gate, gate_status)
    extra = ("step", "gate", "gate_status") if any(r["gate"] or r["step"] != "-" for r in rows) else ()
    emit(app, rows, [{c: r[c] for c in (*views.MILESTONE_COLUMNS, *extra)} for r in rows])


@milestone.command("show")
@click.argument("key", type=MILESTONE_KEY)
@click.option("--as-of", type=DATE, help="Explain why it is not complete as of this date (default: today).")
@json_option
@pass_app
def milestone_show(app: AppContext, key: MilestoneKey, as_of: dt.date | None) -> None:
    """Show a milestone: fields, conditions and why it is not complete, what references it, and its status
    history."""
    with app.session() as session:
        detail = views.milestone_detail(
            session,
            key,
            as_of=as_of or app.settings.today(),
            sql_rules=app.settings.sql_rules,
            sql_timeout_s=app.settings.sql_timeout_s,
            sql_role=app.settings.sql_role,
        )
    print_milestone_detail(app, detail)


def print_milestone_detail(app: AppContext, detail: dict[str, Any]) -> None:
    """One section per key of :func:`ms_prcs.views.milestone_detail`; lists and tables after the fields."""
    if app.json_output:
        print_json(detail)
        return
    emit_fields(app, detail)
    click.echo("\nConditions:")
    click.echo(format_table(detail["conditions"], views.CONDITION_COLUMNS))
    why = detail.get("why_not_complete")
    if why:  # part of the Conditions section: the verdict on each condition, as the engine sees it
        click.echo(f"Why not complete, as of {why['as_of']}: {why['summary']}")
        for c in why["conditions"]:
            click.echo(
                f"  condition {c['seq']} ({c['type']}): {'met' if c['met'] else 'not met'}: {c['reason']}"
            )
    click.echo("\nReferenced by:")
    click.echo("\n".join(f"  {r}" for r in detail["referenced_by"]) or "(none)")
    click.echo("\nHistory:")
    click.echo(format_table(detail["history"], views.HISTORY_COLUMNS))


@milestone.command("ready")
@click.argument("key", type=MILESTONE_KEY)
@json_option
@pass_app
def milestone_ready(app: AppContext, key: MilestoneKey) -> None:
    """Set a Pending milestone Ready for processing, after the edit checks (every problem is listed)."""
    with app.session() as session:
        notes = make_milestone_ready(session, key, app.who(), app.settings.sql_rules)
    if not app.json_output:
        for note in notes:
            click.echo(note)
    done(app, f"milestone {key} is Ready", milestone=str(key), status=MilestoneStatus.READY, notes=notes)


@milestone.command("pending")
@click.argument("key", type=MILESTONE_KEY)
@json_option
@pass_app
def milestone_pending(app: AppContext, key: MilestoneKey) -> None:
    """Set a Ready milestone back to Pending, so that its conditions can be edited."""
    with app.session() as session:
        services.set_pending(session, key, app.who())
    done(app, f"milestone {key} is Pending", milestone=str(key), status=MilestoneStatus.PENDING)


@milestone.command("cancel")
@click.argument("key", type=MILESTONE_KEY)
@json_option
@pass_app
def milestone_cancel(app: AppContext, key: MilestoneKey) -> None:
    """Cancel a Pending or Ready milestone; refused while plan events or other milestones reference it."""
    with app.session() as session:
        services.cancel(session, key, app.who())
    done(app, f"milestone {key} is Cancelled", milestone=str(key), status=MilestoneStatus.CANCELLED)


# --- conditions -----------------------------------------------------------------------------------


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
@click.argument("key", type=MILESTONE_KEY)
@click.argument("seq", type=whole(1))
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
@click.argument("key", type=MILESTONE_KEY)
@click.argument("seq", type=whole(1))
@json_option
@pass_app
def condition_delete(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Delete condition SEQ of a Pending milestone, whatever its status."""
    with app.session() as session:
        services.delete_condition(session, key, seq, app.who())
    done(app, f"condition {seq} of milestone {key} deleted", milestone=str(key), seq=seq)


@condition.command("complete")
@click.argument("key", type=MILESTONE_KEY)
@click.argument("seq", type=whole(1))
@json_option
@pass_app
def condition_complete(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Mark Complete: a User Initiated condition of a Ready milestone is met."""
    with app.session() as session:
        row = workflow_hooks.mark_complete(session, key, seq, app.who())
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
@click.argument("key", type=MILESTONE_KEY)
@click.argument("seq", type=whole(1))
@json_option
@pass_app
def condition_undo(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Undo Mark Complete of a User Initiated condition, until the milestone is Completed."""
    with app.session() as session:
        row = workflow_hooks.undo_mark_complete(session, key, seq, app.who())
    done(
        app,
        f"Mark Complete of condition {seq} of milestone {key} undone (Ready)",
        milestone=str(key),
        seq=seq,
        status=row.condition_status,
    )
