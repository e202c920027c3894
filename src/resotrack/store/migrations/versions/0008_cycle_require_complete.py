"""reporting_cycle: require_complete (partial returns allowed unless set)

Revision ID: 0008
Revises: 0007

A return may answer only part of a questionnaire (one ministry's paragraphs); the rest stays
owed. Staff may still require a whole return in a cycle: ``require_complete``. Existing
cycles keep the old rule (a whole return), so the column is filled with true for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reporting_cycle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_complete", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("reporting_cycle", schema=None) as batch_op:
        batch_op.alter_column("require_complete", server_default=sa.false())


def downgrade() -> None:
    with op.batch_alter_table("reporting_cycle", schema=None) as batch_op:
        batch_op.drop_column("require_complete")
