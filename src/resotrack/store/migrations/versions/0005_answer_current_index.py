"""answer: index the current answers of an entity in a cycle

Revision ID: 0005
Revises: 0004

Every accepted return looks up its entity's current answers in the cycle
(``validation.decide.store_answers``); without this index that is a scan of the cycle's
answers, which grows with every return. The new index starts with ``cycle_id``, so it also
serves what the single-column ``ix_answer_cycle_id`` served; that one is dropped (one index
less to update for each of the 137 rows a return inserts).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answer_cycle_id_entity_code_current",
            ["cycle_id", "entity_code", "current"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_answer_cycle_id"))


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_cycle_id"), ["cycle_id"], unique=False)
        batch_op.drop_index("ix_answer_cycle_id_entity_code_current")
