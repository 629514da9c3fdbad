"""Templates: ``template milestone add|list|show``.

The ``template`` group is importable (``from ms_prcs.cli.templates import template``) so that billing and
revenue plan templates can add their own subgroups next to ``milestone``.
"""

from __future__ import annotations

import click

from contracts.errors import InvalidInput
from contracts.keys import parse_date
from contracts.specs import ConditionSpec
from contracts.status import MilestoneSource, RequiredConditions
from contracts.templates import add_milestone_template
from ms_prcs import views
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.milestones import CONDITION_TYPES, SOURCES
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import done, plural

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
