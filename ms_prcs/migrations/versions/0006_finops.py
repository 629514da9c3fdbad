"""finance operations (issue 16): holds; alerts sent and user e-mail addresses; webhook subscriptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
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

    op.create_table('user_contact',
    sa.Column('user_id', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.user_id'], name=op.f('fk_user_contact_user_id_app_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_contact'))
    )
    op.create_table('sent_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('milestone_pk', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=30), nullable=False),
    sa.Column('condition_seq', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('emailed', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_pk'], ['milestone.id'], name=op.f('fk_sent_alert_milestone_pk_milestone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_alert')),
    sa.UniqueConstraint('milestone_pk', 'level', 'condition_seq', name=op.f('uq_sent_alert_milestone_pk_level_condition_seq'))
    )
    op.create_table('webhook_subscription',
    sa.Column('consumer', sa.String(length=40), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('kinds', sa.Text(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_webhook_subscription'))
    )
    op.create_table('webhook_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consumer', sa.String(length=40), nullable=False),
    sa.Column('cursor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['consumer'], ['webhook_subscription.consumer'], name=op.f('fk_webhook_attempt_consumer_webhook_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    op.create_index('ix_webhook_attempt_consumer', 'webhook_attempt', ['consumer', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_attempt_consumer', table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_table('webhook_subscription')
    op.drop_table('sent_alert')
    op.drop_table('user_contact')
    op.drop_index('ix_hold_object', table_name='hold')
    op.drop_index('ix_hold_contract', table_name='hold')
    op.drop_table('hold')
