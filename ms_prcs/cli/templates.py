"""Templates: every verb of ``template``: ``milestone add|list|show|workflow`` and ``billing|revenue
add|list|show`` (the two plan template groups are one factory over the plan type).

Each command is parse, one service call in one transaction, print; the rules live in ``contracts.templates``,
``billing_plans.templates`` and, for a template's structure, :mod:`ms_prcs.approvals.config.structure`.
"""

from __future__ import annotations

from typing import Any

import click

from billing_plans.templates import (
    TemplateEventSpec,
    add_plan_template,
    get_plan_template,
    list_plan_templates,
    template_summary,
)
from contracts.errors import InvalidInput
from contracts.keys import parse_date
from contracts.specs import ConditionSpec
from contracts.status import MilestoneSource, PlanType, RequiredConditions
from contracts.templates import add_milestone_template
from ms_prcs import views
from ms_prcs.approvals.config.structure import AmountSource, TriggerJoin, set_template_workflow
from ms_prcs.cli import main
from ms_prcs.cli.condition import CONDITION_TYPES, SOURCES
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import done, parse_amount, parse_assignments, plural
from ms_prcs.cli.structure import describe_workflow, structure_options, workflow_data, workflow_spec

CONDITION_KEYS = (
    "type",
    "descr",
    "date",
    "ref",
    "days-lag",
    "source",
    "project",
    "activity",
    "activity-status",
    "sql",
)
"""Keys of ``--condition``; ``sql`` must come last because it takes the rest of the text, commas and all."""


def parse_condition(text: str) -> ConditionSpec:
    """``type=date,date=2026-01-31`` or ``type=milestone,ref=MS001,days-lag=5`` or ``type=sql,sql=SELECT ...``.

    A Contracts reference in a template names a milestone id: on a contract it resolves to that contract's
    milestone with that id.
    """
    what = f"--condition {text!r}"
    values: dict[str, str] = {}
    rest = text
    while rest:
        if rest.startswith("sql="):
            values["sql"] = rest[len("sql=") :]
            break
        item, _, rest = rest.partition(",")
        name, sep, value = item.partition("=")
        name = name.strip().lower().replace("_", "-")
        if not sep:
            raise InvalidInput(f"{what}: {item!r} is not of the form KEY=VALUE")
        if name not in CONDITION_KEYS:
            raise InvalidInput(f"{what}: unknown key {name!r} (known: {', '.join(CONDITION_KEYS)})")
        if name in values:
            raise InvalidInput(f"{what}: {name} is given twice")
        values[name] = value.strip()
    kind = values.get("type", "").lower()
    if kind not in CONDITION_TYPES:
        raise InvalidInput(f"{what}: type must be one of {', '.join(CONDITION_TYPES)}")
    source = values.get("source", "").lower()
    if source and source not in SOURCES:
        raise InvalidInput(f"{what}: source must be one of {', '.join(SOURCES)}")
    lag = values.get("days-lag", "0")
    if not lag.lstrip("-").isdigit():
        raise InvalidInput(f"{what}: days-lag {lag!r} is not a whole number")
    project_given = any(values.get(k) for k in ("project", "activity", "activity-status"))
    return ConditionSpec(
        condition_type=CONDITION_TYPES[kind],
        descr=values.get("descr", ""),
        condition_date=parse_date(values["date"], f"{what}: date") if "date" in values else None,
        sql_text=values.get("sql"),
        source=SOURCES[source] if source else (MilestoneSource.PROJECTS if project_given else None),
        ref_milestone_id=values.get("ref") or None,
        days_lag=int(lag),
        project_id=values.get("project") or None,
        activity_id=values.get("activity") or None,
        activity_status=values.get("activity-status") or None,
    )


@main.group()
def template() -> None:
    """Templates: milestone templates (generic milestones with conditions to copy onto contracts)."""


@template.group("milestone")
def milestone_template() -> None:
    """Milestone templates: add, list, show."""


@milestone_template.command("add")
@click.argument("milestone_id")
@click.option("--descr", default="", help="Description.")
@click.option(
    "--required",
    type=click.Choice(["all", "one"], case_sensitive=False),
    default="all",
    show_default=True,
    help="Complete when ALL conditions are met, or any ONE.",
)
@click.option("--classification", help="Classification copied onto milestones made from the template.")
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    metavar="KEY=VALUE,...",
    help=(
        "A condition (repeatable), e.g. type=date,date=2026-01-31 | type=user,descr=Sign-off | "
        "type=milestone,ref=MS001,days-lag=5 | type=milestone,project=P1,activity=A1,activity-status=Completed | "
        "type=sql,sql=SELECT ... (sql= last)."
    ),
)
@json_option
@pass_app
def milestone_template_add(
    app: AppContext,
    milestone_id: str,
    descr: str,
    required: str,
    classification: str | None,
    conditions: tuple[str, ...],
) -> None:
    """Add a milestone template MILESTONE_ID with its conditions."""
    specs = [parse_condition(c) for c in conditions]
    with app.session() as session:
        row = add_milestone_template(
            session,
            milestone_id,
            descr=descr,
            required=RequiredConditions(required.upper()),
            classification=classification,
            conditions=specs,
        )
        mid, count = row.milestone_id, len(row.conditions)
    done(
        app,
        f"milestone template {mid} added with {plural(count, 'condition')}",
        milestone_id=mid,
        conditions=count,
    )


@milestone_template.command("list")
@json_option
@pass_app
def milestone_template_list(app: AppContext) -> None:
    """List milestone templates."""
    with app.session() as session:
        rows = views.list_milestone_template_rows(session)
    emit(app, rows)


@milestone_template.command("show")
@click.argument("milestone_id")
@json_option
@pass_app
def milestone_template_show(app: AppContext, milestone_id: str) -> None:
    """Show a milestone template and its conditions."""
    with app.session() as session:
        detail = views.milestone_template_detail(session, milestone_id)
    emit_fields(app, detail)
    if app.json_output:
        return
    click.echo("\nConditions:")
    click.echo(format_table(detail["conditions"], views.TEMPLATE_CONDITION_COLUMNS))


__all__ = ["milestone_template", "parse_condition", "template"]


@milestone_template.command("workflow")
@click.argument("milestone_id")
@structure_options
@click.option("--optional/--required", "optional_flag", default=None, help="Optional: added by its triggers.")
@click.option(
    "--manual-roles", help="Roles that may add it by hand (comma-separated; '' = everyone who can edit)."
)
@click.option(
    "--amount-source", type=click.Choice(["line", "billing", "revenue", "none"]), help="Amount trigger."
)
@click.option("--threshold", "thresholds", multiple=True, metavar="BU=AMOUNT", help="Threshold (BU or *).")
@click.option(
    "--attr", "attrs", multiple=True, metavar="NAME=VALUE", help="Attribute trigger pair (all must hold)."
)
@click.option("--no-attr", is_flag=True, help="Remove the attribute trigger.")
@click.option(
    "--join", "join", type=click.Choice(["AND", "OR"], case_sensitive=False), help="Amount AND/OR attributes."
)
@json_option
@pass_app
def template_workflow(
    app: AppContext,
    /,
    milestone_id: str,
    optional_flag: bool | None,
    manual_roles: str | None,
    amount_source: str | None,
    thresholds: tuple[str, ...],
    attrs: tuple[str, ...],
    no_attr: bool,
    join: str | None,
    **kw: Any,
) -> None:
    """Set a milestone template's structure (copied to milestones added from it) and optional triggers."""
    limits = {
        bu: parse_amount(v, "--threshold") for bu, v in parse_assignments(thresholds, "--threshold").items()
    }
    if attrs and no_attr:
        raise InvalidInput("--attr and --no-attr cannot be used together")
    spec = workflow_spec(
        kw,
        optional=optional_flag,
        manual_add_roles=tuple(r.strip() for r in manual_roles.split(","))
        if manual_roles is not None
        else None,
        amount_source=AmountSource(amount_source) if amount_source and amount_source != "none" else None,
        clear_amount_source=amount_source == "none",
        thresholds=limits or None,
        attribute_trigger=parse_assignments(attrs, "--attr") if attrs else ({} if no_attr else None),
        trigger_join=TriggerJoin(join.upper()) if join else None,
    )
    with app.session() as session:
        row = set_template_workflow(session, milestone_id, spec)
        data = workflow_data(row) | {
            "optional": row.optional,
            "manual_roles": row.manual_add_roles,
            "amount_source": row.amount_source,
            "join": row.trigger_join,
        }
        mid = row.milestone_id
    done(
        app,
        f"milestone template {mid}: {describe_workflow(data) or 'no structure'}",
        milestone_id=mid,
        **data,
    )


# --- billing and revenue plan templates ------------------------------------------------------------

PLAN_LIST_COLUMNS = (
    "template_id",
    "descr",
    "events_count",
    "total_percentage",
    "total_amount",
    "ready_on_activation",
)
PLAN_EVENT_COLUMNS = ("event_num", "event_type", "milestone_id", "event_date", "share", "descr")


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
        emit(app, rows, [{c: r[c] for c in PLAN_LIST_COLUMNS} for r in rows])

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
            click.echo(format_table(summary["events"], PLAN_EVENT_COLUMNS))

    return group


billing_template = plan_template_group(PlanType.BILLING)
revenue_template = plan_template_group(PlanType.REVENUE)
template.add_command(billing_template)
template.add_command(revenue_template)
