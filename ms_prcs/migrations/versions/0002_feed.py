"""feed: the append-only change log for billing and revenue systems, and the consumers' cursors

``feed_entry.id`` is the cursor a consumer reads after; ``dedupe_key`` is unique so that one milestone
completion or one event's eligibility is published once. SQLite gets AUTOINCREMENT so that a cursor is
never reused after a rolled-back insert (PostgreSQL sequences never go back anyway).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:55:52.912046
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_consumer',
    sa.Column('consumer', sa.String(length=40), nullable=False),
    sa.Column('acked_through', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_feed_consumer'))
    )
    op.create_table('feed_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('milestone_completed', 'billing_event_eligible', 'revenue_event_eligible', name='feedkind', native_enum=False, length=30), nullable=False),
    sa.Column('dedupe_key', sa.String(length=40), nullable=False),
    sa.Column('business_unit', sa.String(length=5), nullable=False),
    sa.Column('contract_num', sa.String(length=25), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('milestone_pk', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.String(length=10), nullable=True),
    sa.Column('milestone_num', sa.Integer(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('line_num', sa.Integer(), nullable=True),
    sa.Column('plan_pk', sa.Integer(), nullable=True),
    sa.Column('plan_type', sa.Enum('Billing', 'Revenue', name='plantype', native_enum=False, length=20), nullable=True),
    sa.Column('plan_id', sa.String(length=15), nullable=True),
    sa.Column('event_pk', sa.Integer(), nullable=True),
    sa.Column('event_num', sa.Integer(), nullable=True),
    sa.Column('event_type', sa.Enum('Milestone', 'Date', name='eventtype', native_enum=False, length=20), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('percentage', sa.Numeric(precision=7, scale=4), nullable=True),
    sa.Column('amount', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('process_instance', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_entry')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_feed_entry_dedupe_key')),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('feed_entry')
    op.drop_table('feed_consumer')
