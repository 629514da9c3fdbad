"""run lock: one row per business unit a live run holds; process_run.job_name for scheduled jobs

``run_lock.business_unit`` is the primary key, so two runs over one unit cannot both insert it: the
database, not a process, decides who runs. ``process_run.job_name`` with ``as_of`` identifies a job's
night, so a second run of the same job and date is a no-op unless forced.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('run_lock',
    sa.Column('business_unit', sa.String(length=5), nullable=False),
    sa.Column('process_instance', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('business_unit', name=op.f('pk_run_lock'))
    )
    with op.batch_alter_table('process_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_name', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('process_run', schema=None) as batch_op:
        batch_op.drop_column('job_name')
    op.drop_table('run_lock')
