"""Billing and revenue plans and their events: ``plan create|add|show|list|ready|pending|ready-on-activation``
and ``event add|update|ready|pending|bill|recognize|reverse``.

A plan is addressed as ``BU/CONTRACT/LINE/PLAN_ID`` and an event as ``BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM``.
Each command is parse, one service call of :mod:`billing_plans` in one transaction, print.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click

from billing_plans import events as event_services
from billing_plans import plans as plan_services
from billing_plans.events import EventMove
from billing_plans.keys import EventKey, PlanKey, event_key, get_plan
from billing_plans.shares import parse_share
from contracts.keys import ContractKey, MilestoneKey
from contracts.status import EventType, PlanType
from ms_prcs.approvals import hooks as workflow_hooks
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, DATE, MILESTONE_KEY, done, whole

PLAN_TYPES = {"billing": PlanType.BILLING, "revenue": PlanType.REVENUE}
EVENT_TYPES = {"milestone": EventType.MILESTONE, "date": EventType.DATE}
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


class EventKeyType(click.ParamType[EventKey]):
    name = "BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> EventKey:
        return value if isinstance(value, EventKey) else EventKey.parse(str(value))


PLAN_KEY = PlanKeyType()
EVENT_KEY = EventKeyType()


def _share(percentage: str | None, amount: str | None) -> tuple[Decimal | None, Decimal | None]:
    p = parse_share(percentage.rstrip("%") + "%", "--percentage")[0] if percentage is not None else None
    a = parse_share(amount, "--amount")[1] if amount is not None else None
    return p, a


# --- plans ------------------------------------------------------------------------------------------


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
        created = workflow_hooks.create_plan_from_template(
            session, contract_key, line_num, template_id, app.who(), app.settings.sql_rules, plan_id=plan_id
        )
        # a plan's amounts: unset actions revert approvals, amount triggers add optional milestones
        workflow_hooks.after_amount_change(session, contract_key, app.who())
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


# --- events -----------------------------------------------------------------------------------------


@main.group()
def event() -> None:
    """Plan events (BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM): add, update, ready, pending; and the downstream
    side: bill (billing), recognize and reverse (revenue)."""


@event.command("add")
@click.argument("key", type=PLAN_KEY)
@click.option(
    "--type", "event_type", type=click.Choice(list(EVENT_TYPES), case_sensitive=False), required=True
)
@click.option(
    "--milestone", type=MILESTONE_KEY, help="A Milestone event's milestone (BU/CONTRACT/MS_ID/NUM)."
)
@click.option("--date", "event_date", type=DATE, help="A Date event's date.")
@click.option("--percentage", help="Share of the line amount, e.g. 40 or 40%.")
@click.option("--amount", help="A fixed amount instead of a percentage.")
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def event_add(
    app: AppContext,
    key: PlanKey,
    event_type: str,
    milestone: MilestoneKey | None,
    event_date: dt.date | None,
    percentage: str | None,
    amount: str | None,
    descr: str,
) -> None:
    """Add the next event to a plan, Pending."""
    pct, amt = _share(percentage, amount)
    with app.session() as session:
        row = event_services.add_event(
            session,
            key,
            app.who(),
            event_type=EVENT_TYPES[event_type.lower()],
            milestone=milestone,
            event_date=event_date,
            percentage=pct,
            amount=amt,
            descr=descr,
        )
        ekey, obj = str(event_key(row)), event_services.describe(row)
        workflow_hooks.after_amount_change(session, key.contract, app.who())
    done(app, f"{obj} added (Pending)", event=ekey, status="Pending")


@event.command("update")
@click.argument("key", type=EVENT_KEY)
@click.option("--milestone", type=MILESTONE_KEY, help="A Milestone event's milestone.")
@click.option("--date", "event_date", type=DATE, help="A Date event's date.")
@click.option("--percentage", help="Share of the line amount, e.g. 40 or 40%.")
@click.option("--amount", help="A fixed amount instead of a percentage.")
@click.option("--descr", help="Description.")
@json_option
@pass_app
def event_update(
    app: AppContext,
    key: EventKey,
    milestone: MilestoneKey | None,
    event_date: dt.date | None,
    percentage: str | None,
    amount: str | None,
    descr: str | None,
) -> None:
    """Change a Pending event."""
    pct, amt = _share(percentage, amount)
    with app.session() as session:
        row = event_services.update_event(
            session,
            key,
            app.who(),
            milestone=milestone,
            event_date=event_date,
            percentage=pct,
            amount=amt,
            descr=descr,
        )
        obj = event_services.describe(row)
        if pct is not None or amt is not None:
            workflow_hooks.after_amount_change(session, key.plan.contract, app.who())
    done(app, f"{obj} updated", event=str(key))


def _event_move(verb: str, help_text: str) -> None:
    """``event ready|pending|bill|recognize|reverse KEY``: one shape, one service each."""

    @event.command(verb, help=help_text)
    @click.argument("key", type=EVENT_KEY)
    @json_option
    @pass_app
    def command(app: AppContext, key: EventKey) -> None:
        with app.session() as session:
            who = app.who()
            match verb:
                case "ready":
                    move = EventMove.of(event_services.set_event_ready(session, key, who))
                case "pending":
                    move = EventMove.of(event_services.set_event_pending(session, key, who))
                case "bill" | "recognize" | "reverse" | "credit":
                    move = getattr(event_services, verb)(session, key, who)
                case _:  # pragma: no cover
                    raise AssertionError(verb)
        done(
            app,
            move.message,
            event=str(key),
            status=move.status,
            plan_completed=move.plan_completed,
            plan_reopened=move.plan_reopened,
        )


_event_move("ready", "Set a Pending event Ready (its plan Ready; milestone or date, and share checked).")
_event_move("pending", "Set a Ready event back to Pending (not once it was announced on the feed).")
_event_move("bill", "Billing system: a claimed (In Progress) billing event was billed.")
_event_move("recognize", "Revenue system: recognize an eligible (Ready, announced) revenue event.")
_event_move(
    "reverse",
    "Reverse a Recognized revenue event, also of a Completed plan (final; a reversal entry on the feed;"
    " `event replace` adds the replacement).",
)
_event_move(
    "credit",
    "Credit a Billed billing event (final; a credit entry on the feed, the billed event is not edited;"
    " `event replace` adds the replacement).",
)


@event.command("replace")
@click.argument("key", type=EVENT_KEY)
@json_option
@pass_app
def event_replace(app: AppContext, key: EventKey) -> None:
    """Add a Pending event like a Reversed or Credited one (type, milestone, date, share)."""
    with app.session() as session:
        row = event_services.add_replacement(session, key, app.who())
        ekey, obj = str(event_key(row)), event_services.describe(row)
    done(app, f"{obj} added (Pending), replacing event {key.event_num}", event=ekey, status="Pending")


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
