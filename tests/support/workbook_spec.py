"""Shared by several test modules (moved from test_workbook.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from resotrack.catalog import Language
from resotrack.questionnaires import (
    QuestionnaireSpec,
    QuestionRow,
)

KEY = b"test-signing-key"


ROWS = 137


SYMBOL = "OIC/MCSD-2/2023/RES/FINAL"


UPLOAD_URL = "https://resotrack.example.org/upload/t0k3n-abc"


REPLY_TO = "returns@resotrack.example.org"


# Operative paragraphs of seed 004, and text a spreadsheet would take for a formula.
SAMPLE_PARAGRAPHS = (
    "EXHORTE les États membres à signer et à ratifier le Statut de l'Organisation pour le "
    "Développement de la femme dans les États membres de l'OCI ; et DEMANDE aux États qui "
    "l'ont signé de le ratifier dès que possible afin de renforcer le rôle de l'Organisation "
    "de la Coopération Islamique en matière d'autonomisation de la femme.",
    "DEMANDE aux États membres de prendre les mesures nécessaires en vue de réduire les effets "
    "négatifs des médias sur les membres de la famille et de multiplier les émissions et "
    "productions médiatiques favorables à la famille.",
    "DEMANDE aux Etats membres d'intensifier la coopération commune en matière de préservation "
    "du bien-être et de la sécurité sociale des personnes âgées.",
    '=HYPERLINK("https://evil.example", "cliquez ici")',
    "+33 1 23 45 67 89 : numéro du point focal",
    "-1 : paragraphe retiré",
    "@SUM(A1:A9)",
)


VERBS = ("EXHORTE | DEMANDE", "DEMANDE", "APPELLE", "INVITE", "ENCOURAGE")


# Previous-cycle answers on paragraph 5; paragraph 6 has an ISO date typed as text.
PREFILL_5 = {
    "status": "partially_implemented",
    "measures": "Loi n° 2021-17 sur la protection sociale; plan national 2022-2026.",
    "start_date": date(2021, 5, 1),
    "national_body": "Ministère de la Solidarité sociale",
    "evidence": "=https://example.org/rapport.pdf",
}


PREFILL_6 = {"status": "not_started", "start_date": "2019-11-30"}


def make_rows(count: int = ROWS) -> tuple[QuestionRow, ...]:
    prefill: dict[int, dict[str, Any]] = {5: PREFILL_5, 6: PREFILL_6}
    return tuple(
        QuestionRow(
            resolution=SYMBOL,
            number=n,
            section="ABCDEF"[min(5, (n - 1) // 25)],
            verb=VERBS[n % len(VERBS)],
            text=SAMPLE_PARAGRAPHS[n % len(SAMPLE_PARAGRAPHS)],
            prefill=prefill.get(n, {}),
        )
        for n in range(1, count + 1)
    )


def make_spec(language: Language, **changes: Any) -> QuestionnaireSpec:
    spec = QuestionnaireSpec(
        questionnaire_id=42,
        cycle_id=7,
        entity_code="EG",
        entity_name={"fr": "Égypte", "en": "Egypt", "ar": "مصر"}[language],
        language=language,
        deadline=date(2023, 6, 5),
        upload_url=UPLOAD_URL,
        reply_to=REPLY_TO,
        rows=make_rows(),
    )
    return replace(spec, **changes)
