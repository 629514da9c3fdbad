"""``ms-prcs init``: create or upgrade the schema."""

from __future__ import annotations

import os

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.db import upgrade
from ms_prcs.service.keyfile import ensure_key_file
from ms_prcs.service.rights import ensure_roles


@main.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database schema to the latest version (Alembic), with the service's roles and its
    secret key file."""
    upgrade(app.engine)
    click.echo(f"schema is up to date in {app.engine.url.render_as_string(hide_password=True)}")
    with app.session() as session:
        added = ensure_roles(session)
    if added:
        click.echo(f"roles added for the service: {', '.join(added)}")
    if not os.environ.get("MS_PRCS_SECRET_KEY") and ensure_key_file(app.settings.secret_key_file):
        click.echo(f"secret key of the service written to {app.settings.secret_key_file} (mode 0600)")
