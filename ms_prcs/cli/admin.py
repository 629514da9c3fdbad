"""``ms-prcs init``: create or upgrade the schema."""

from __future__ import annotations

import os

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.db import check_schema, upgrade
from ms_prcs.service.keyfile import ensure_key_file
from ms_prcs.service.rights import ensure_roles


@main.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database schema to the latest version (Alembic); on PostgreSQL also the role
    SQL conditions run under (SELECT on the allow-listed tables only); the service's roles and its secret key
    file."""
    settings = app.settings
    engine = app.unchecked_engine()
    check_schema(engine, upgrading=True)  # never "upgrade" a schema made by a newer ms-prcs
    role = upgrade(engine, sql_tables=settings.sql_rules.allowed_tables, sql_role=settings.sql_role)
    click.echo(f"schema is up to date in {engine.url.render_as_string(hide_password=True)}")
    if role is not None:
        changes = [
            *(["created"] if role.created else []),
            *(f"granted {g}" for g in role.granted),
            *(f"revoked {r}" for r in role.revoked),
        ]
        click.echo(f"SQL conditions run as role {role.role}: {'; '.join(changes) or 'in step'}")
    with app.session() as session:
        added = ensure_roles(session)
    if added:
        click.echo(f"roles added for the service: {', '.join(added)}")
    if not os.environ.get("MS_PRCS_SECRET_KEY") and ensure_key_file(app.settings.secret_key_file):
        click.echo(f"secret key of the service written to {app.settings.secret_key_file} (mode 0600)")
