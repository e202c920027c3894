"""paragraph_lineage.state, paragraph_theme.state: indexed for the review queue

Revision ID: 0010
Revises: 0009

The staff review page and ``resotrack resolutions lineage-review|themes-review`` list the
lineage matches in state ``review`` and the themes in state ``proposed``, among every
paragraph of every stored resolution. Nothing else changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("paragraph_lineage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paragraph_lineage_state"), ["state"], unique=False)
    with op.batch_alter_table("paragraph_theme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paragraph_theme_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paragraph_theme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paragraph_theme_state"))
    with op.batch_alter_table("paragraph_lineage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paragraph_lineage_state"))
