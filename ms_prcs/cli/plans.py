"""Billing and revenue plans: every verb of ``plan`` (``create|add|show|list|ready|pending|ready-on-activation|
reverse``); their events' verbs are :mod:`ms_prcs.cli.event`.

A plan is addressed as ``BU/CONTRACT/LINE/PLAN_ID`` and an event as ``BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM``.
Each command is parse, one service call of :mod:`billing_plans` in one transaction, print.
"""

from __future__ import annotations

from typing import Any

import click

from billing_plans import events as event_services
from billing_plans import plans as plan_services
from billing_plans.keys import PlanKey, get_plan
from contracts.keys import ContractKey
from contracts.status import PlanType
from ms_prcs.approvals import hooks
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, done, whole

PLAN_TYPES = {"billing": PlanType.BILLING, "revenue": PlanType.REVENUE}
PLAN_COLUMNS = (
    "plan",
    "plan_type",
    "status",
    "template_id",
    "line_amount",
    "total_percentage",
    "events_count",
)
EVENT_COLUMNS = (
    "event_num",
    "event_type",
    "status",
    "milestone",
    "milestone_status",
    "event_date",
    "share",
    "amount",
    "feed_cursor",
)
DECISION_COLUMNS = ("milestone", "status", "reason")


class PlanKeyType(click.ParamType[PlanKey]):
    name = "BU/CONTRACT/LINE/PLAN_ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> PlanKey:
        return value if isinstance(value, PlanKey) else PlanKey.parse(str(value))


PLAN_KEY = PlanKeyType()


@main.group()
def plan() -> None:
    """Billing and revenue plans on contract lines (BU/CONTRACT/LINE/PLAN_ID)."""


@plan.command("create")
@click.option("--template", "template_id", required=True, help="The billing or revenue plan template.")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("line_num", metavar="LINE", type=whole(1))
@click.option("--plan-id", help="The plan id (default: the template id).")
@json_option
@pass_app
def plan_create(
    app: AppContext, template_id: str, contract_key: ContractKey, line_num: int, plan_id: str | None
) -> None:
    """Create a plan on a contract line from a template: its events, and a milestone (conditions copied,
    auto-readied) for each Milestone event."""
    with app.session() as session:
        created = hooks.create_plan_from_template(
            session, contract_key, line_num, template_id, app.who(), app.settings.sql_rules, plan_id=plan_id
        )
        # a plan's amounts: unset actions revert approvals, amount triggers add optional milestones
        hooks.after_amount_change(session, contract_key, app.who())
        summary = plan_services.plan_summary(session, created.plan)
    decisions = [
        {"milestone": d.milestone, "status": d.status, "reason": d.reason} for d in created.milestones
    ]
    if app.json_output:
        print_json({**summary, "milestones": decisions})
        return
    click.echo(
        f"{summary['plan_type'].lower()} plan {summary['plan']} created from template {summary['template_id']}"
        f" ({summary['status']}) with {len(summary['events'])} event{'s' * (len(summary['events']) != 1)}"
    )
    if decisions:
        click.echo("\nMilestones:")
        click.echo(format_table(decisions, DECISION_COLUMNS))
    click.echo("\nEvents:")
    click.echo(format_table(summary["events"], EVENT_COLUMNS))


@plan.command("add")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@click.argument("line_num", metavar="LINE", type=whole(1))
@click.argument("plan_id")
@click.option("--type", "plan_type", type=click.Choice(list(PLAN_TYPES), case_sensitive=False), required=True)
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def plan_add(
    app: AppContext, contract_key: ContractKey, line_num: int, plan_id: str, plan_type: str, descr: str
) -> None:
    """Add an empty plan by hand, Pending; add its events with ``event add``."""
    with app.session() as session:
        row = plan_services.add_plan(
            session, contract_key, line_num, PLAN_TYPES[plan_type.lower()], plan_id, app.who(), descr=descr
        )
        key, kind, status = str(PlanKey(contract_key, line_num, row.plan_id)), row.plan_type, row.status
    done(app, f"{kind.lower()} plan {key} added ({status})", plan=key, plan_type=kind, status=status)


@plan.command("show")
@click.argument("key", type=PLAN_KEY)
@json_option
@pass_app
def plan_show(app: AppContext, key: PlanKey) -> None:
    """Show a plan, its events (milestones, feed cursors) and why it is not Completed yet."""
    with app.session() as session:
        summary = plan_services.plan_summary(session, get_plan(session, key))
    emit_fields(app, summary)
    if not app.json_output:
        click.echo("\nEvents:")
        click.echo(format_table(summary["events"], EVENT_COLUMNS))


@plan.command("list")
@click.argument("contract_key", metavar="[BU/CONTRACT]", type=CONTRACT_KEY, required=False)
@json_option
@pass_app
def plan_list(app: AppContext, contract_key: ContractKey | None) -> None:
    """List plans (of one contract, or all)."""
    with app.session() as session:
        rows = [
            plan_services.plan_summary(session, p) for p in plan_services.list_plans(session, contract_key)
        ]
    for row in rows:
        row["events_count"] = len(row["events"])
    emit(app, rows, [{c: r[c] for c in PLAN_COLUMNS} for r in rows])


@plan.command("ready")
@click.argument("key", type=PLAN_KEY)
@click.option(
    "--events", "with_events", is_flag=True, help="Also set every Pending event Ready (all or none)."
)
@json_option
@pass_app
def plan_ready(app: AppContext, key: PlanKey, with_events: bool) -> None:
    """Set a plan Ready: the contract must be Active and the plan have at least one event."""
    with app.session() as session:
        row = plan_services.set_plan_ready(session, key, app.who(), with_events=with_events)
        ready = [e.event_num for e in row.events if e.status != event_services.PENDING]
    also = f"; events {', '.join(map(str, ready))} Ready" if with_events and ready else ""
    done(app, f"{row.plan_type.lower()} plan {key} is Ready{also}", plan=str(key), status=row.status)


@plan.command("pending")
@click.argument("key", type=PLAN_KEY)
@json_option
@pass_app
def plan_pending(app: AppContext, key: PlanKey) -> None:
    """Set a Ready plan back to Pending (only while every event is Pending)."""
    with app.session() as session:
        row = plan_services.set_plan_pending(session, key, app.who())
    done(app, f"{row.plan_type.lower()} plan {key} is Pending", plan=str(key), status=row.status)


@plan.command("ready-on-activation")
@click.argument("contract_key", metavar="BU/CONTRACT", type=CONTRACT_KEY)
@json_option
@pass_app
def plan_ready_on_activation(app: AppContext, contract_key: ContractKey) -> None:
    """Ready the Pending plans (and their events) of an Active contract whose template says
    "Ready on contract activation". Safe to repeat."""
    with app.session() as session:
        outcomes = plan_services.ready_on_activation(session, contract_key, app.who())
    rows = [{"plan": o.plan, "readied": o.readied, "reason": o.reason} for o in outcomes]
    emit(app, rows)


@plan.command("reverse")
@click.argument("key", type=PLAN_KEY)
@json_option
@pass_app
def plan_reverse(app: AppContext, key: PlanKey) -> None:
    """Reverse every Recognized event of a revenue plan, or credit every Billed event of a billing plan."""
    with app.session() as session:
        undo = event_services.undo_plan(session, key, app.who())
    done(
        app,
        undo.message,
        plan=undo.plan,
        status=undo.status,
        events=list(undo.events),
        plan_reopened=undo.plan_reopened,
        feed_entries=undo.feed_entries,
    )
