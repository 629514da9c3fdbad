"""Milestone classifications: ``classification add``."""

from __future__ import annotations

import click

from contracts import admin
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import done


@main.group()
def classification() -> None:
    """Milestone classifications: only holders of one of their roles may change a classified milestone."""


@classification.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="A role allowed (repeatable).")
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def classification_add(app: AppContext, name: str, roles: tuple[str, ...], descr: str) -> None:
    """Add a classification: the set of roles that may change its milestones or mark their conditions."""
    with app.session() as session:
        admin.add_classification(session, name, roles, descr)
    done(
        app,
        f"classification {name} added for roles {', '.join(roles)}",
        classification=name,
        roles=list(roles),
    )
