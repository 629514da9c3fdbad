"""The Project Costing stand-in: ``project activity add|status|inactivate|list|show``."""

from __future__ import annotations

import datetime as dt

import click

from contracts import projects as services
from ms_prcs import views
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table
from ms_prcs.cli.params import DATE, done


@main.group()
def project() -> None:
    """Project Costing stand-in: project activities that Milestone conditions can wait for."""


@project.group()
def activity() -> None:
    """Project activities (PROJECT ACTIVITY) with effective-dated status history."""


@activity.command("add")
@click.argument("project_id")
@click.argument("activity_id")
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def activity_add(app: AppContext, project_id: str, activity_id: str, descr: str) -> None:
    """Add an active project activity."""
    with app.session() as session:
        row = services.add_activity(session, project_id, activity_id, descr)
        key = row.key
    done(app, f"project activity {key} added", activity=key)


@activity.command("status")
@click.argument("project_id")
@click.argument("activity_id")
@click.argument("status")
@click.option("--effdt", type=DATE, required=True, help="Effective date of the status.")
@json_option
@pass_app
def activity_status(app: AppContext, project_id: str, activity_id: str, status: str, effdt: dt.date) -> None:
    """Record that an activity has STATUS from --effdt on (a new history row)."""
    with app.session() as session:
        row = services.set_activity_status(session, project_id, activity_id, status, effdt)
        seq = row.effseq
    done(
        app,
        f"project activity {project_id}/{activity_id} is {status} from {effdt.isoformat()}",
        activity=f"{project_id}/{activity_id}",
        status=status,
        effdt=effdt,
        seq=seq,
    )


@activity.command("inactivate")
@click.argument("project_id")
@click.argument("activity_id")
@json_option
@pass_app
def activity_inactivate(app: AppContext, project_id: str, activity_id: str) -> None:
    """Inactivate an activity. Allowed even when contracts reference it: those are printed as warnings."""
    with app.session() as session:
        warnings = services.inactivate_activity(session, project_id, activity_id)
    for warning in warnings:
        if not app.json_output:
            click.echo(f"Warning: {warning}", err=True)
    done(
        app,
        f"project activity {project_id}/{activity_id} inactivated",
        activity=f"{project_id}/{activity_id}",
        active=False,
        warnings=warnings,
    )


@activity.command("list")
@click.option("--project", "project_id", help="Only this project.")
@json_option
@pass_app
def activity_list(app: AppContext, project_id: str | None) -> None:
    """List activities with their latest status."""
    with app.session() as session:
        rows = views.list_activities(session, project_id)
    emit(app, rows)


@activity.command("show")
@click.argument("project_id")
@click.argument("activity_id")
@json_option
@pass_app
def activity_show(app: AppContext, project_id: str, activity_id: str) -> None:
    """Show an activity: its status history and the contracts that reference it."""
    with app.session() as session:
        detail = views.activity_detail(session, project_id, activity_id)
    emit_fields(app, detail)
    if app.json_output:
        return
    click.echo("\nHistory:")
    click.echo(format_table(detail["history"]))
    click.echo("\nReferenced by contracts:")
    click.echo("\n".join(f"  {c}" for c in detail["referenced_by"]) or "(none)")
