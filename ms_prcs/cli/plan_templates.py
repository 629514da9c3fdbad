"""Billing and revenue plan templates: ``template billing|revenue add|list|show``.

The two groups are one factory over the plan type, attached to the ``template`` group of
:mod:`ms_prcs.cli.templates` next to ``milestone``.
"""

from __future__ import annotations

import click

from billing_plans.templates import (
    TemplateEventSpec,
    add_plan_template,
    get_plan_template,
    list_plan_templates,
    template_summary,
)
from contracts.status import PlanType
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import done
from ms_prcs.cli.templates import template

LIST_COLUMNS = (
    "template_id",
    "descr",
    "events_count",
    "total_percentage",
    "total_amount",
    "ready_on_activation",
)
EVENT_COLUMNS = ("event_num", "event_type", "milestone_id", "event_date", "share", "descr")


def plan_template_group(plan_type: PlanType) -> click.Group:
    kind = f"{plan_type.lower()} plan template"

    @click.group(plan_type.lower(), help=f"{plan_type} plan templates: add, list, show.")
    def group() -> None:
        pass

    @group.command("add", help=f"Add a {kind} TEMPLATE_ID with its events (numbered in the order given).")
    @click.argument("template_id")
    @click.option("--descr", default="", help="Description.")
    @click.option(
        "--ready-on-activation",
        is_flag=True,
        help="Plans made from it become Ready with their events when the contract is Active.",
    )
    @click.option(
        "--event",
        "events",
        multiple=True,
        required=True,
        metavar="TARGET=SHARE",
        help="An event (repeatable): MS001=40% (Milestone event on milestone template MS001, 40 % of the "
        "line) or 2026-12-31=1500.00 (Date event, an amount).",
    )
    @json_option
    @pass_app
    def add(
        app: AppContext, template_id: str, descr: str, ready_on_activation: bool, events: tuple[str, ...]
    ) -> None:
        specs = [TemplateEventSpec.parse(e) for e in events]
        with app.session() as session:
            row = add_plan_template(
                session,
                template_id,
                plan_type,
                descr=descr,
                ready_on_activation=ready_on_activation,
                events=specs,
            )
            summary = template_summary(row)
        count = summary["events_count"]
        done(app, f"{kind} {summary['template_id']} added with {count} event{'s' * (count != 1)}", **summary)

    @group.command("list", help=f"List {kind}s.")
    @json_option
    @pass_app
    def list_(app: AppContext) -> None:
        with app.session() as session:
            rows = [template_summary(t) for t in list_plan_templates(session, plan_type)]
        emit(app, rows, [{c: r[c] for c in LIST_COLUMNS} for r in rows])

    @group.command("show", help=f"Show a {kind} and its events.")
    @click.argument("template_id")
    @json_option
    @pass_app
    def show(app: AppContext, template_id: str) -> None:
        with app.session() as session:
            summary = template_summary(get_plan_template(session, template_id, plan_type))
        emit_fields(app, summary)
        if not app.json_output:
            click.echo("\nEvents:")
            click.echo(format_table(summary["events"], EVENT_COLUMNS))

    return group


billing_template = plan_template_group(PlanType.BILLING)
revenue_template = plan_template_group(PlanType.REVENUE)
template.add_command(billing_template)
template.add_command(revenue_template)
