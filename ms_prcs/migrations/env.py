"""Alembic environment: the engine comes from the caller (``ms_prcs.db.upgrade``), never from an ini file."""

from __future__ import annotations

from alembic import context

from ms_prcs.schema import METADATA

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
