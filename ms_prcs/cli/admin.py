"""``ms-prcs init``: create or upgrade the schema."""

from __future__ import annotations

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.db import upgrade


@main.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database schema to the latest version (Alembic); on PostgreSQL also the role
    SQL conditions run under (SELECT on the allow-listed tables only)."""
    settings = app.settings
    role = upgrade(app.engine, sql_tables=settings.sql_rules.allowed_tables, sql_role=settings.sql_role)
    click.echo(f"schema is up to date in {app.engine.url.render_as_string(hide_password=True)}")
    if role is not None:
        changes = [
            *(["created"] if role.created else []),
            *(f"granted {g}" for g in role.granted),
            *(f"revoked {r}" for r in role.revoked),
        ]
        click.echo(f"SQL conditions run as role {role.role}: {'; '.join(changes) or 'in step'}")
