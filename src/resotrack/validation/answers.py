"""Accepted answers, read for the stages that build on them (no validation runs here).

Validation owns the answer table; a questionnaire is prefilled with the entity's accepted
answers of earlier cycles, and the questionnaires stage sits below validation, so it is
handed :func:`earlier_answers` by its caller (see ``questionnaires.dispatch.EarlierAnswers``)
instead of reading the table itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack.questionnaires.spec import ANSWER_FIELDS
from resotrack.validation.models import Answer


def earlier_answers(
    session: Session, cycle_id: int, entity_code: str
) -> dict[tuple[str, int], dict[str, Any]]:
    """The entity's newest accepted answer per paragraph from cycles before ``cycle_id``:
    (resolution symbol, paragraph number) → the answer's fields (``ANSWER_FIELDS``)."""
    rows = session.scalars(
        select(Answer)
        .where(
            Answer.entity_code == entity_code,
            Answer.current.is_(True),
            Answer.cycle_id < cycle_id,
        )
        .order_by(Answer.cycle_id.desc())
    )
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for answer in rows:
        key = (answer.resolution_symbol, answer.paragraph_number)
        if key not in found:
            found[key] = {name: getattr(answer, name) for name in ANSWER_FIELDS}
    return found
