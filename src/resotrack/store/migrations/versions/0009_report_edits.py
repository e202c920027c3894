"""report_edit (staff's text for a block of a draft report); report_build.approved_files

Revision ID: 0009
Revises: 0008

Staff edit the Word draft and upload it back: the text of each marked block is kept per cycle,
resolution, language and block, and the next build uses it. Approving a build records the
SHA-256 of the Word files approved.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("resolution_symbol", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("block", sa.String(length=40), nullable=False),
        sa.Column("paragraphs", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("replaced", sa.Text(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("edited_by", sa.String(length=120), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["reporting_cycle.id"],
            name=op.f("fk_report_edit_cycle_id_reporting_cycle"),
        ),
        sa.ForeignKeyConstraint(
            ["build_id"], ["report_build.id"], name=op.f("fk_report_edit_build_id_report_build")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_edit")),
        sa.UniqueConstraint(
            "cycle_id",
            "resolution_symbol",
            "language",
            "block",
            name=op.f("uq_report_edit_cycle_id_resolution_symbol_language_block"),
        ),
    )
    with op.batch_alter_table("report_edit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_edit_cycle_id"), ["cycle_id"], unique=False)
    with op.batch_alter_table("report_build", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_files", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_build", schema=None) as batch_op:
        batch_op.drop_column("approved_files")
    with op.batch_alter_table("report_edit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_edit_cycle_id"))
    op.drop_table("report_edit")
