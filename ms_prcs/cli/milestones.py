"""Contract milestones: every verb of ``milestone``: ``add|list|show|ready|pending|cancel``, ``assign``, and
the structure verbs ``workflow|step|block``.

Each command is parse, one service call in one transaction, print. The rules (status machine, edit checks,
references, classification) live in ``contracts`` and ``conditions``, the approval layer's in
:mod:`ms_prcs.approvals` (reached through its entry point, :mod:`ms_prcs.approvals.hooks`); this module only
words the result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from contracts import milestones as services
from contracts.keys import ContractKey, MilestoneKey
from contracts.status import MilestoneStatus, RequiredConditions
from ms_prcs import views
from ms_prcs.approvals import gates, hooks, inbox
from ms_prcs.approvals.config.structure import WorkflowSpec, parse_statuses, set_milestone_workflow
from ms_prcs.approvals.hooks import make_milestone_ready
from ms_prcs.approvals.steps import describe
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, DATE, MILESTONE_KEY, done, plural, whole
from ms_prcs.cli.structure import describe_workflow, structure_options, workflow_data, workflow_spec

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
        row = hooks.add_milestone(
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
        rows = gates.annotate_milestones(session, rows, gate, gate_status)
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


@milestone.command("assign")
@click.argument("key", type=MILESTONE_KEY)
@click.argument("user_id", metavar="USER")
@json_option
@pass_app
def milestone_assign(app: AppContext, key: MilestoneKey, user_id: str) -> None:
    """Assign a milestone to a person (Milestone Assignment): it is in their inbox, and they are told of its
    submissions."""
    with app.session() as session:
        inbox.assign(session, key, user_id, app.who())
    done(app, f"milestone {key} assigned to {user_id} (notified)", milestone=str(key), user=user_id)


@milestone.command("workflow")
@click.argument("key", type=MILESTONE_KEY)
@structure_options
@json_option
@pass_app
def milestone_workflow(app: AppContext, /, key: MilestoneKey, **kw: Any) -> None:
    """Set a milestone's step, stage gate, deadlines, unset actions and the contract statuses it blocks."""
    with app.session() as session:
        row = set_milestone_workflow(session, key, workflow_spec(kw), app.who())
        data = workflow_data(row)
    done(app, f"milestone {key}: {describe_workflow(data) or 'no structure'}", milestone=str(key), **data)


@milestone.command("step")
@click.argument("key", type=MILESTONE_KEY)
@click.argument("step", type=whole(0))
@click.argument("sub_step", type=whole(0), required=False)
@click.option("--any-time/--in-order", "any_time", default=None, help="May complete before earlier steps.")
@json_option
@pass_app
def milestone_step(
    app: AppContext, key: MilestoneKey, step: int, sub_step: int | None, any_time: bool | None
) -> None:
    """Put a milestone in STEP (and SUB_STEP): later steps wait for earlier ones; same step = any order."""
    spec = WorkflowSpec(step=step, sub_step=sub_step if sub_step is not None else 0, any_time=any_time)
    with app.session() as session:
        row = set_milestone_workflow(session, key, spec, app.who())
        text = describe(row.step, row.sub_step)
    done(app, f"milestone {key} is in step {text}", milestone=str(key), step=row.step, sub_step=row.sub_step)


@milestone.command("block")
@click.argument("key", type=MILESTONE_KEY)
@click.option("--status", "statuses", multiple=True, required=True, metavar="Active,Closed|none")
@json_option
@pass_app
def milestone_block(app: AppContext, key: MilestoneKey, statuses: tuple[str, ...]) -> None:
    """Block contract statuses (e.g. Active,Closed) until this milestone is Completed; ``none`` unblocks."""
    blocks = parse_statuses(statuses)
    with app.session() as session:
        set_milestone_workflow(session, key, WorkflowSpec(blocks=blocks), app.who())
    text = ", ".join(blocks) if blocks else "no status"
    done(app, f"milestone {key} blocks {text} until it is Completed", milestone=str(key), blocks=list(blocks))
