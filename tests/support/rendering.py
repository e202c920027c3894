"""Shared by several test modules (moved from test_consolidation_render.py)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from resotrack.consolidation.snapshot import Snapshot, snapshot_from_rows
from resotrack.questionnaires import STATUSES

CONVERT_TIMEOUT = 300


NASTY = {
    "hyperlink": '=HYPERLINK("http://evil.example/x","click me")',
    "plus": "+33 1 23 45 67 89 (cmd|' /C calc'!A0)",
    "minus": "-2+3",
    "at": "@SUM(1,2)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


RESOLUTIONS = (("R/FR/1", "fr"), ("R/AR/2", "ar"))


def _snapshot() -> Snapshot:
    """Two resolutions (French, Arabic), six sections, 30 entities, nasty measures."""
    resolutions = []
    paragraphs = []
    for symbol, language in RESOLUTIONS:
        sections = [[letter, f"Section {letter} de {symbol}"] for letter in "ABCDEF"]
        resolutions.append(
            {
                "symbol": symbol,
                "version": 1,
                "title": f"Résolution {symbol} sur le développement social",
                "body": "La Conférence ministérielle",
                "session": "Deuxième session",
                "place": "Le Caire",
                "adopted_gregorian": "5-6 juin 2023",
                "adopted_on": "2023-06-06",
                "adopted_hijri": "16-17 Dhou al-Qi'da 1444 H",
                "language": language,
                "sections": sections,
            }
        )
        for number in range(1, 25):
            letter = "ABCDEF"[(number - 1) // 4]
            paragraphs.append(
                (
                    symbol,
                    number,
                    letter,
                    f"DEMANDE aux États membres de faire {number}.",
                    "MS",
                    "DEMANDE",
                )
            )
    codes = [f"E{n:02d}" for n in range(30)]
    entities = [(c, "member_state", f"State {c}", f"État {c}", f"دولة {c}", "fr") for c in codes]
    asked = [
        (c, symbol, number) for c in codes for symbol, _ in RESOLUTIONS for number in range(1, 25)
    ]
    submissions = []
    answers = []
    nasty = iter(NASTY.values())
    for i, code in enumerate(codes):
        if i % 5 == 4:
            continue  # never replies
        received = f"2030-06-{1 + i % 28:02d}T10:00:00+00:00"
        submissions.append((i + 1, code, "accepted", received))
        for symbol, _ in RESOLUTIONS:
            for number in range(1, 25):
                measure = challenge = None
                if (i + number) % 3 == 0:
                    challenge = next(nasty, None)  # other columns are kept as written
                    measure = challenge or f"Mesures prises par {code} au paragraphe {number}."
                answers.append(
                    (
                        code,
                        symbol,
                        number,
                        STATUSES[(i + number) % 6],
                        measure,
                        None,
                        None,
                        challenge,
                        None,
                        None,
                        i + 1,
                    )
                )
    return snapshot_from_rows(
        cycle={
            "id": 3,
            "title": "Cycle de suivi 2030",
            "deadline": "2030-06-20",
            "state": "open",
            "opened_at": "2030-05-01T09:00:00+00:00",
            "dispatched_at": "2030-05-02T09:00:00+00:00",
        },
        resolutions=resolutions,
        paragraphs=paragraphs,
        entities=entities,
        asked=asked,
        submissions=submissions,
        answers=answers,
    )


def convert(
    soffice: str, source: Path, target: str, outdir: Path, *, produced: str | None = None
) -> Path:
    """LibreOffice headless conversion with a private profile; returns the new file."""
    return convert_timed(soffice, source, target, outdir, produced=produced)[0]


def convert_timed(
    soffice: str, source: Path, target: str, outdir: Path, *, produced: str | None = None
) -> tuple[Path, float]:
    """:func:`convert`, and the seconds it took. Every run gets its own user profile, so
    parallel or leftover LibreOffice processes cannot lock each other out."""
    extension = target.split(":")[0]
    profile = outdir / f"profile-{source.stem}-{extension}"
    started = time.perf_counter()
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT,
    )
    elapsed = time.perf_counter() - started
    path = outdir / f"{produced or source.stem}.{extension}"
    assert result.returncode == 0 and path.is_file() and path.stat().st_size > 0, (
        f"soffice failed ({result.returncode}), no {extension} made: {result.stdout} "
        f"{result.stderr} (Writer missing? run scripts/system-deps.sh)"
    )
    return path, elapsed
