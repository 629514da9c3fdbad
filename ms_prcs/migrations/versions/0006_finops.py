"""finance operations (issue 16): holds on contracts, plans and plan events

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 10:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('business_unit', sa.String(length=5), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('one_cycle', sa.Boolean(), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('held_by', sa.String(length=40), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by', sa.String(length=40), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.id'], name=op.f('fk_hold_contract_pk_contract')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold'))
    )
    op.create_index('ix_hold_contract', 'hold', ['contract_pk'], unique=False)
    op.create_index('ix_hold_object', 'hold', ['object_type', 'object_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_hold_object', table_name='hold')
    op.drop_index('ix_hold_contract', table_name='hold')
    op.drop_table('hold')
