"""the Ready SQL conditions of a chunk by index: milestone_pk joins the condition status and type index (issue 14)

A run reads, before each chunk, the Ready SQL conditions of the milestones the chunk will take. With the
index on (condition_status, condition_type) alone that read had to probe every condition of every milestone
of the chunk to find the few SQL ones (about 1 % of the milestones have one): the one per-row read the
engine did that its floor does not. With ``milestone_pk`` as the index's third column it is one range of
the index, as long as the chunk's SQL conditions. The index still answers everything it answered before
(its first two columns are unchanged).

Revision ID: 0012_sql_window_index
Revises: 0011_token_consumer
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_sql_window_index"
down_revision: str | None = "0011_token_consumer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("milestone_condition") as batch:
        batch.drop_index("ix_milestone_condition_status_type")
        batch.create_index(
            "ix_milestone_condition_status_type_milestone",
            ["condition_status", "condition_type", "milestone_pk"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("milestone_condition") as batch:
        batch.drop_index("ix_milestone_condition_status_type_milestone")
        batch.create_index(
            "ix_milestone_condition_status_type", ["condition_status", "condition_type"], unique=False
        )
