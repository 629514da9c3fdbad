"""token consumer: a feed token may be bound to one feed consumer (issue 11)

``api_token.consumer`` names the only feed consumer the token may read, acknowledge and see (``ms-prcs token
create --scope feed --consumer NAME``); NULL keeps a token unbound (every consumer, as before).

Revision ID: 0011_token_consumer
Revises: 0010_run_ranges
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0011_token_consumer"
down_revision: str | None = "0010_run_ranges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("consumer", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("consumer")
