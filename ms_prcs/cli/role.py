"""Roles: ``role add``."""

from __future__ import annotations

import click

from contracts import admin
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import done


@main.group()
def role() -> None:
    """Roles: held by users, named by milestone classifications."""


@role.command("add")
@click.argument("role_name")
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def role_add(app: AppContext, role_name: str, descr: str) -> None:
    """Add a role."""
    with app.session() as session:
        admin.add_role(session, role_name, descr)
    done(app, f"role {role_name} added", role=role_name)
