"""Seed 004 answered by the 57 member states: the world the report tests, samples and bench use.

Every state is asked what routing gives it, and every state replies (a few after the deadline),
each in its working language (Arabic, English or French), with measures drawn from a small bank
of themes so that similar measures exist to be grouped, as real returns have. The draw is
seeded: the same world every time. Not a test module (no tests here).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from resotrack.questionnaires import STATUSES
from resotrack.store import session_scope
from support import world as base
from support.world import SEED_004, SYMBOL

__all__ = ["SEED_004", "SYMBOL", "World", "make_world"]
WEIGHTS: Final = (20, 25, 30, 12, 5, 8)
LATE_EVERY: Final = 11  # one state in eleven replies the day after the deadline

TOPICS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "la protection sociale",
        "l'enfance",
        "les personnes âgées",
        "les personnes handicapées",
        "la famille",
    ),
    "en": (
        "social protection",
        "children",
        "older persons",
        "persons with disabilities",
        "the family",
    ),
    "ar": ("الحماية الاجتماعية", "الطفولة", "كبار السن", "الأشخاص ذوي الإعاقة", "الأسرة"),
}
THEMES: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "Adoption d'une stratégie nationale pour {topic} couvrant la période {y}-{y2}, pilotée "
        "par le ministère des Affaires sociales.",
        "Programme de transferts monétaires en faveur des familles vulnérables, étendu à {k} "
        "régions en {y}.",
        "Organisation de {k} ateliers de formation des travailleurs sociaux en {y}.",
        "Révision de la législation relative à {topic} ; un projet de loi a été soumis au "
        "Parlement en {y}.",
        "Enquête nationale auprès des ménages sur {topic}, dont les résultats ont été publiés "
        "en {y}.",
        "Projet pilote sur {topic} mené avec le SESRIC et l'UNICEF dans {k} gouvernorats.",
    ),
    "en": (
        "A national strategy for {topic} covering {y}-{y2} was adopted, led by the Ministry of "
        "Social Affairs.",
        "Cash transfer programme for vulnerable families, extended to {k} regions in {y}.",
        "{k} training workshops for social workers were held in {y}.",
        "The legislation on {topic} is being revised; a bill was submitted to Parliament in {y}.",
        "A national household survey on {topic} was carried out and its results published in {y}.",
        "Pilot project on {topic} with SESRIC and UNICEF in {k} provinces.",
    ),
    "ar": (
        "اعتماد استراتيجية وطنية بشأن {topic} للفترة {y}-{y2} تشرف عليها وزارة الشؤون الاجتماعية.",
        "برنامج للتحويلات النقدية لفائدة الأسر الهشة، وُسِّع ليشمل {k} مناطق في عام {y}.",
        "تنظيم {k} ورشات تدريبية للأخصائيين الاجتماعيين في عام {y}.",
        "مراجعة التشريعات المتعلقة بـ{topic}؛ وقد أُحيل مشروع قانون إلى البرلمان في عام {y}.",
        "إجراء مسح وطني للأسر بشأن {topic} ونُشرت نتائجه في عام {y}.",
        "مشروع تجريبي بشأن {topic} بالتعاون مع مركز أنقرة واليونيسف في {k} محافظات.",
    ),
}
CHALLENGES: Final[dict[str, str]] = {
    "fr": "Ressources budgétaires limitées.",
    "en": "Limited budget resources.",
    "ar": "محدودية الموارد المالية.",
}


@dataclass(frozen=True)
class World(base.World):
    cycle_id: int
    deadline: date
    states: list[str]
    answers: int
    late: list[str]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def make_world(seed_file: Path = SEED_004, *, built_on: date | None = None, seed: int = 4) -> World:
    """Write the cycle into the configured database; the deadline is 20 days before
    ``built_on`` (default: 2030-07-01), the questionnaires went out 45 days before it."""
    built_on = built_on or date(2030, 7, 1)
    deadline = built_on - timedelta(days=20)
    World.register_entities()
    World.import_resolution(seed_file)
    languages = World.member_states()
    states = sorted(languages)
    cycle_id = World.open_cycle(
        states,
        deadline,
        opened_at=_at(deadline - timedelta(days=46), 9),
        dispatched_at=_at(deadline - timedelta(days=45), 9),
    )
    rng = random.Random(seed)
    late: list[str] = []
    count = 0
    rows = World.asked_in(cycle_id)
    with session_scope() as s:
        for i, code in enumerate(states):
            lang = languages[code] if languages[code] in THEMES else "en"
            if i % LATE_EVERY == 5:
                received = _at(deadline + timedelta(days=1 + i % 3), 10)
                late.append(code)
            else:
                received = _at(deadline - timedelta(days=rng.randint(0, 30)), rng.randint(7, 18))
            answers = []
            for number in rows.get(code, []):
                status = rng.choices(STATUSES, weights=WEIGHTS)[0]
                measure = challenge = None
                if status not in ("not_applicable", "no_information") and rng.random() < 0.7:
                    theme = rng.choice(THEMES[lang][: 3 + number % 4])
                    measure = theme.format(
                        topic=rng.choice(TOPICS[lang]),
                        y=rng.choice((2022, 2023, 2024)),
                        y2=2030,
                        k=rng.randint(3, 9),
                    )
                if status == "not_started" and rng.random() < 0.5:
                    challenge = CHALLENGES[lang]
                answers.append(
                    {
                        "paragraph_number": number,
                        "current": True,
                        "status": status,
                        "measures": measure,
                        "challenges": challenge,
                    }
                )
                count += 1
            World.add_return(
                s,
                cycle_id,
                code,
                received_at=received,
                answers=answers,
                sha256=f"{i + 1:064d}",
                size=1000,
            )
    return World(cycle_id, deadline, states, count, late)
