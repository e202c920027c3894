"""Answers carried forward: a renewed mandate's row starts from last cycle's accepted answer.

Cycle 1 asks Senegal about seed 004; its return goes through the real ingest and is accepted.
The next session renews the resolution (``renewal.renew``: reworded, renumbered, dropped and
added paragraphs); cycle 2 asks about the renewal, and Senegal's workbook must show, on each
renewed paragraph, the answer it gave to the paragraph that one renews, with a note saying so.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from resotrack import clock
from resotrack.questionnaires.cycles import open_cycle
from resotrack.questionnaires.dispatch import build_questionnaire, load_cycle
from resotrack.questionnaires.i18n import status_label
from resotrack.resolutions import parse_file
from resotrack.resolutions.importer import store_parsed
from resotrack.resolutions.lineage import lineage_of
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.answers import earlier_answers
from resotrack.validation.entry import ingest_pending
from support.renewal import renew
from support.return_fixtures import (
    KEY,
    SEED_004,
    answers_for,
    current_answers,
    filled,
    make_world,
    submit,
)

RENEWED = "OIC/MCSD-3/2025/RES/FINAL"


def test_second_cycle_questionnaire_carries_the_first_cycles_answers(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "9")  # nothing listens: mail stays queued
    get_settings.cache_clear()
    world = make_world(tmp_path, entities=("SEN",), full=("SEN",))
    submit(world, filled(world, "SEN"))
    ingest_pending()
    first = current_answers(world, "SEN")
    assert len(first) == 137  # every paragraph answered and accepted

    renewed, truth = renew(
        parse_file(SEED_004), seed=2, symbol=RENEWED, adopted_on=date(2025, 6, 20)
    )
    with session_scope() as s:
        store_parsed(s, renewed, source_text="synthetic", source="renewal", actor="test")
        predecessor = {
            m.paragraph: m.predecessor["paragraph"]
            for m in lineage_of(s, RENEWED)
            if m.predecessor is not None
        }
        second = open_cycle(s, [RENEWED], clock.today() + timedelta(days=90), entities=["SEN"])
        asked = {row["number"] for row in second.questionnaires[0].rows}
        data = build_questionnaire(
            s, load_cycle(s, second.id), second.questionnaires[0], earlier_answers=earlier_answers
        )

    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Return").to_python()
    by_number = {int(float(cast(float, r[1]))): r for r in rows[1:] if str(r[1]).strip()}
    assert set(by_number) == asked
    carried_over = {n for n in asked if truth[n] is not None}
    carried = {n for n in carried_over if n in predecessor}
    assert len(carried) / len(carried_over) >= 0.95
    for n in carried:
        old = first[predecessor[n]]
        expected = answers_for(old.paragraph_number, "fr")
        row = by_number[n]
        assert status_label(old.status, "fr") in row, n
        assert expected["measures"] in row and expected["evidence"] in row, n
        assert predecessor[n] == truth[n]  # and it is the answer to the right paragraph
    for n in asked - carried:  # new paragraphs (and any not linked) start blank
        assert by_number[n][5:] == [""] * len(by_number[n][5:]), n

    notes = openpyxl.load_workbook(io.BytesIO(data))["Return"]
    status_column = 6  # F: status
    for row in notes.iter_rows(min_row=2):
        n = int(float(str(row[1].value)))
        comment = row[status_column - 1].comment
        if n in carried:
            assert comment is not None, n
            assert f"paragraphe {truth[n]} de la résolution OIC/MCSD-2/2023/RES/FINAL" in (
                comment.text
            )
            assert "confirmer ou la mettre à jour" in comment.text
        else:
            assert comment is None, n
