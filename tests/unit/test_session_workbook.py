"""A session's questionnaire: resolutions listed area by area, each a link to its first row."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from resotrack.questionnaires.spec import QuestionnaireSpec, QuestionRow
from resotrack.questionnaires.workbook import INSTRUCTIONS_SHEET, build_workbook
from resotrack.resolutions.areas import session_order


def _spec(symbols: list[str], language: str = "fr", per: int = 3) -> QuestionnaireSpec:
    rows = tuple(
        QuestionRow(s, n, None, "DEMANDE", f"Paragraphe {n}.")
        for s in symbols
        for n in range(1, per + 1)
    )
    return QuestionnaireSpec(
        questionnaire_id=1,
        cycle_id=7,
        entity_code="SEN",
        entity_name="Sénégal",
        language=language,  # type: ignore[arg-type]
        deadline=dt.date(2030, 3, 1),
        upload_url="https://portal.example.org/u/abc",
        reply_to="returns@oic.example.org",
        template_version="2026.1",
        rows=rows,
    )


def _instructions(data: bytes) -> list[tuple[object, object, str | None]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))[INSTRUCTIONS_SHEET]
    return [
        (a.value, b.value, b.hyperlink.location if b.hyperlink else None)
        for a, b in sheet.iter_rows(min_col=1, max_col=2)
    ]


def test_a_session_questionnaire_lists_its_resolutions_by_area() -> None:
    symbols = sorted(["10/49-POL", "2/49-E", "2/49-POL", "OIC/X/RES"], key=session_order)
    assert symbols == ["2/49-POL", "10/49-POL", "2/49-E", "OIC/X/RES"]
    cells = _instructions(build_workbook(_spec(symbols), signing_key=b"k"))
    labels = [a for a, _, _ in cells]
    start = labels.index("Sommaire")
    listed = [(a, b, link) for a, b, link in cells[start + 1 :] if b]
    assert listed == [
        (
            "Affaires politiques",
            "Résolution 2/49-POL\u00a0: 3 paragraphes, à partir de la ligne 2",
            "'Return'!A2",
        ),
        (None, "Résolution 10/49-POL\u00a0: 3 paragraphes, à partir de la ligne 5", "'Return'!A5"),
        (
            "Affaires économiques",
            "Résolution 2/49-E\u00a0: 3 paragraphes, à partir de la ligne 8",
            "'Return'!A8",
        ),
        (
            "Autres résolutions",
            "Résolution OIC/X/RES\u00a0: 3 paragraphes, à partir de la ligne 11",
            "'Return'!A11",
        ),
    ]


@pytest.mark.parametrize("language", ["ar", "en", "fr"])
def test_a_one_resolution_questionnaire_has_no_contents(language: str) -> None:
    cells = _instructions(build_workbook(_spec(["1/49-IT"], language), signing_key=b"k"))
    assert not any(link for _, _, link in cells if link and link.startswith("'Return'"))
    assert "Contents" not in [a for a, _, _ in cells] and "Sommaire" not in [a for a, _, _ in cells]
