"""run ranges: the contiguous milestone id ranges a run with several workers shares out (issue 14)

One row per range of a run: its ids, its claim (state, host, pid, how many claims, heartbeat), how far its
committed chunks got and their counts, so workers on any host take the next open range, a dead worker's
range is taken again where it stopped, and the run adds up every range's counts once.

Revision ID: 0010_run_ranges
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010_run_ranges"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_range",
        sa.Column("process_instance", sa.Integer(), nullable=False),
        sa.Column("range_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lo_pk", sa.Integer(), nullable=False),
        sa.Column("hi_pk", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("after_pk", sa.Integer(), nullable=False),
        sa.Column("milestones_completed", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_instance"],
            ["process_run.process_instance"],
            name=op.f("fk_run_range_process_instance_process_run"),
        ),
        sa.PrimaryKeyConstraint("process_instance", "range_no", name=op.f("pk_run_range")),
    )


def downgrade() -> None:
    op.drop_table("run_range")
