"""Build the next session's version of a real resolution, deterministically, with its answer key.

An OIC resolution is renewed session after session: most paragraphs carried over, some
reworded (synonyms, updated years, clauses swapped, inserted or dropped, another operative
verb), the rest dropped, new ones added, everything renumbered. :func:`renew` does that to a
parsed seed with a seeded random generator and returns the new resolution together with what
each new paragraph renews (its old number) or ``None`` for an added one. The added paragraphs
are written in the same style as the seeds (same verbs, same addressees, other subjects) so
they are hard negatives, not easy ones.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import replace
from datetime import date

from resotrack.resolutions.model import ParsedParagraph, ParsedResolution

SYNONYMS_FR: tuple[tuple[str, str], ...] = (
    ("États membres", "pays membres"),
    ("renforcer", "consolider"),
    ("promouvoir", "favoriser"),
    ("coopération", "collaboration"),
    ("afin de", "en vue de"),
    ("notamment", "en particulier"),
    ("mettre en œuvre", "appliquer"),
    ("nécessité", "importance"),
    ("efforts", "initiatives"),
    ("Secrétariat général", "Secrétariat"),
    ("institutions", "organismes"),
    ("domaine", "secteur"),
)
VERBS_FR: tuple[tuple[str, str], ...] = (
    ("DEMANDE", "PRIE"),
    ("INVITE", "ENCOURAGE"),
    ("SALUE", "SE FÉLICITE DE"),
    ("EXHORTE", "APPELLE"),
    ("ACCUEILLE FAVORABLEMENT", "SE FÉLICITE DE"),
    ("REAFFIRME", "RÉITÈRE"),
    ("INSISTE", "SOULIGNE"),
)
INSERTS_FR: tuple[str, ...] = (
    "dans les meilleurs délais",
    "conformément aux résolutions pertinentes",
    "selon les moyens disponibles",
    "en étroite concertation avec les parties concernées",
)
ADDED_FR: tuple[str, ...] = (
    "DEMANDE au Secrétariat général d'élaborer, en coordination avec les institutions "
    "compétentes, une stratégie de l'OCI pour l'adaptation des villes aux changements "
    "climatiques et de la soumettre à la prochaine session de la Conférence ;",
    "INVITE les États membres à partager leurs expériences en matière de numérisation des "
    "registres fonciers afin de faciliter l'accès des agriculteurs au crédit ;",
    "SALUE l'offre de la République du Sénégal d'accueillir la Quatrième Conférence "
    "ministérielle de l'OCI en 2027 ;",
    "ENCOURAGE les institutions financières islamiques à créer un fonds de microcrédit "
    "destiné aux coopératives de pêche dans les États membres les moins avancés ;",
    "PRIE le SESRIC de publier un rapport biennal sur la sécurité alimentaire et les prix "
    "des céréales dans les États membres ;",
    "APPELLE les États membres à renforcer la sécurité routière par des campagnes de "
    "sensibilisation destinées aux jeunes conducteurs ;",
    "DÉCIDE de créer un groupe de travail à composition non limitée sur la gestion des "
    "ressources en eau et la lutte contre la désertification ;",
    "EXHORTE les États membres à protéger leurs infrastructures critiques contre les "
    "cyberattaques et à coopérer dans le domaine de la cybersécurité ;",
)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r",\s+", text) if c]


def reword(text: str, rng: random.Random) -> str:
    """One to three rewordings of a French paragraph, chosen by ``rng``."""
    out = text
    operations = rng.sample(range(6), k=rng.randint(1, 3))
    for op in operations:
        if op == 0:  # synonyms: up to three that occur
            present = [pair for pair in SYNONYMS_FR if pair[0] in out]
            for old, new in rng.sample(present, k=min(3, len(present))):
                out = out.replace(old, new, 1)
        elif op == 1:  # the operative verb
            for old, new in VERBS_FR:
                if out.startswith(old):
                    out = new + out[len(old) :]
                    break
        elif op == 2:  # years move on by one session
            out = re.sub(r"\b(20[12]\d)\b", lambda m: str(int(m.group(1)) + 2), out)
        elif op == 3:  # two inner clauses swap places
            clauses = _clauses(out)
            if len(clauses) >= 4:
                i = rng.randrange(1, len(clauses) - 2)
                clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
                out = ", ".join(clauses)
        elif op == 4:  # a phrase inserted after the first clause
            clauses = _clauses(out)
            if len(clauses) >= 2:
                clauses.insert(1, rng.choice(INSERTS_FR))
                out = ", ".join(clauses)
        elif op == 5:  # an inner clause dropped from a long paragraph
            clauses = _clauses(out)
            if len(clauses) >= 5:
                del clauses[rng.randrange(1, len(clauses) - 1)]
                out = ", ".join(clauses)
    return out


def renew(
    old: ParsedResolution,
    *,
    seed: int,
    symbol: str,
    adopted_on: date,
    drop: float = 0.08,
    added: tuple[str, ...] = ADDED_FR,
    moves: int = 4,
) -> tuple[ParsedResolution, dict[int, int | None]]:
    """The renewed resolution and, per new paragraph number, the old number it renews."""
    rng = random.Random(seed)
    kept: list[tuple[ParsedParagraph, int | None]] = []
    for paragraph in old.paragraphs:
        if rng.random() < drop:
            continue
        kept.append((replace(paragraph, text=reword(paragraph.text, rng)), paragraph.number))
    for text in added:  # new paragraphs land anywhere
        position = rng.randrange(len(kept) + 1)
        section = kept[min(position, len(kept) - 1)][0].section if kept else None
        kept.insert(position, (ParsedParagraph(0, section, text, ()), None))
    for _ in range(moves):  # a few paragraphs move elsewhere in the text
        item = kept.pop(rng.randrange(len(kept)))
        kept.insert(rng.randrange(len(kept) + 1), item)
    paragraphs = tuple(replace(p, number=i) for i, (p, _) in enumerate(kept, start=1))
    truth = {i: number for i, (_, number) in enumerate(kept, start=1)}
    digest = hashlib.sha256(
        "\n".join([symbol, *(p.text for p in paragraphs)]).encode("utf-8")
    ).hexdigest()
    renewed = replace(
        old,
        symbol=symbol,
        document_symbol=symbol,
        title=old.title.replace("Deuxième", "Troisième"),
        adopted_on=adopted_on,
        adopted_gregorian=adopted_on.isoformat(),
        paragraphs=paragraphs,
        text_sha256=digest,
    )
    return renewed, truth
