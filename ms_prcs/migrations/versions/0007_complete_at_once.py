"""approval rules: complete_at_once (an approval that completes what its milestone needs runs the engine)

Default true on every existing rule: approving unblocks at once unless a rule says to wait for the next run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('approval_rule', 'approval_rule_template')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column('complete_at_once', sa.Boolean(), nullable=False, server_default=sa.true())
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('complete_at_once')
