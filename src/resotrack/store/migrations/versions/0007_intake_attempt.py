"""intake_attempt: items a channel started on and did not finish (bounded retries)

Revision ID: 0007
Revises: 0006

A mail or dropped file whose processing crashes or times out is tried again by the next
poll; this table counts the tries (committed before each one) so that after a few the item is
quarantined instead, and never blocks the ones behind it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("item", sa.String(length=500), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_attempt")),
        sa.UniqueConstraint("channel", "item", name=op.f("uq_intake_attempt_channel_item")),
    )


def downgrade() -> None:
    op.drop_table("intake_attempt")
