"""``ms-prcs init``: create or upgrade the schema."""

from __future__ import annotations

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, pass_app
from ms_prcs.db import check_schema, upgrade


@main.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database schema to the latest version (Alembic)."""
    engine = app.unchecked_engine()
    check_schema(engine, upgrading=True)  # never "upgrade" a schema made by a newer ms-prcs
    upgrade(engine)
    click.echo(f"schema is up to date in {engine.url.render_as_string(hide_password=True)}")
