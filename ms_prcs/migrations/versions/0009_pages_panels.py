"""pages: a milestone's panel and its Save & Complete switch (issue 12)

``panel`` names the section of the contract's milestones page a milestone is shown on (the seed's "separate
Milestones into different Panels"); ``save_and_complete`` offers approving and closing the contract in one
step. Both on milestone templates (copied to the milestones added from them) and on milestones.

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("milestone_workflow", "milestone_template_workflow")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("panel", sa.String(length=30), nullable=True))
            batch.add_column(
                sa.Column("save_and_complete", sa.Boolean(), nullable=False, server_default=sa.false())
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("save_and_complete", server_default=None)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("save_and_complete")
            batch.drop_column("panel")
