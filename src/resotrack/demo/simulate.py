"""Simulated focal points who use the real portal over HTTP, as a person would.

Each one reads their mail (the maildir the mail sink keeps) for their personal upload link,
opens their page, downloads their questionnaire, fills it in with openpyxl (a status from the
dropdown in their own language, the measures taken, a start date, the national body, a link
to the evidence) and uploads it. Nothing here touches the database: what a focal point knows
is what their mail and their portal page tell them.

Who does what is decided once, from a seed, so a run is reproducible: about 70 % reply, some
with mistakes they correct after the feedback, some after the deadline, the rest never.
"""

from __future__ import annotations

import html
import io
import random
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from resotrack.demo import mailsink
from resotrack.validation import lifecycle

Behaviour = Literal["on_time", "with_errors", "late", "never"]
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON: Final = {"accept": "application/json"}
DECIDED_OK: Final = lifecycle.ANSWERS_STORED
PENDING: Final = lifecycle.PENDING

#: Shares of the cast, in order of assignment; the rest reply on time.
SHARES: Final[tuple[tuple[Behaviour, float], ...]] = (
    ("never", 0.30),
    ("with_errors", 0.12),
    ("late", 0.12),
)
#: A canonical status and its weight; every answer carries measures (the quality rules ask
#: for them, or for a reason, depending on the status).
STATUS_WEIGHTS: Final = (
    ("fully_implemented", 20),
    ("partially_implemented", 25),
    ("in_progress", 30),
    ("not_started", 12),
    ("not_applicable", 5),
    ("no_information", 8),
)
MEASURES: Final = {
    "en": "National programme no. {n} ({entity}): legislation adopted in {year} and a budget "
    "line allocated.",
    "fr": "Programme national no {n} ({entity}) : texte adopté en {year} et ligne budgétaire "
    "allouée.",
    "ar": "البرنامج الوطني رقم {n} ({entity}): اعتُمد التشريع في {year} وخُصّص له بند في الميزانية.",
}
NATIONAL_BODY: Final = {
    "en": "Ministry of Foreign Affairs",
    "fr": "Ministère des Affaires étrangères",
    "ar": "وزارة الخارجية",
}
CHALLENGES: Final = {
    "en": "Limited budget and staff.",
    "fr": "Budget et personnel limités.",
    "ar": "محدودية الميزانية والموظفين.",
}
NOT_A_LINK: Final = {"en": "see annex 3", "fr": "voir annexe 3", "ar": "انظر المرفق 3"}
_LINK = re.compile(r"https?://[^\s<>\"']+/t/[A-Za-z0-9._~-]+")
_QUESTIONNAIRE = re.compile(r'href="([^"]+/questionnaire)"')
_UPLOAD = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass(frozen=True)
class Role:
    """What one focal point will do, on which simulated day (day 0 = the cycle opens)."""

    entity: str
    email: str
    language: str
    behaviour: Behaviour
    day: int | None = None
    correction_day: int | None = None
    sloppy_evidence: bool = False  # writes "see annex 3" where a link belongs: a warning


def cast(
    people: Sequence[tuple[str, str, str]], *, deadline_day: int, days: int, seed: int
) -> list[Role]:
    """Give each (entity, email, language) a behaviour and the days they act on."""
    rng = random.Random(seed)
    order = sorted(people)
    rng.shuffle(order)
    roles: list[Role] = []
    start = 0
    for behaviour, share in (*SHARES, ("on_time", 1.0)):
        count = len(order) - start if behaviour == "on_time" else round(share * len(order))
        for entity, email, language in order[start : start + count]:
            roles.append(_role(rng, entity, email, language, behaviour, deadline_day, days))
        start += count
    return sorted(roles, key=lambda r: r.entity)


def _role(
    rng: random.Random,
    entity: str,
    email: str,
    language: str,
    behaviour: Behaviour,
    deadline_day: int,
    days: int,
) -> Role:
    if behaviour == "never":
        return Role(entity, email, language, behaviour)
    if behaviour == "late":
        # After the deadline: they get the overdue reminder first, then reply.
        return Role(entity, email, language, behaviour, deadline_day + rng.randint(1, 12))
    if behaviour == "with_errors":
        # A hurried first try early on, the corrected workbook in the last ten days before
        # the deadline (the feedback had to go round the ministry first). Corrections also
        # bunch up then, so the story waits for the pipeline once rather than each time.
        day = rng.randint(1, max(1, deadline_day - 16))
        fixed = rng.randint(max(day + 2, deadline_day - 10), max(day + 2, deadline_day - 3))
        return Role(entity, email, language, behaviour, day, fixed)
    day = rng.randint(1, max(1, deadline_day - 8))
    return Role(entity, email, language, behaviour, day, sloppy_evidence=rng.random() < 0.2)


# --- reading mail ------------------------------------------------------------------------


class LinkBook:
    """The newest upload link each address received, read from the maildir as mail arrives."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: set[str] = set()
        self.links: dict[str, str] = {}

    def refresh(self) -> None:
        for key, message in mailsink.messages(self.folder, skip=self.seen):
            self.seen.add(key)
            found = _LINK.search(mailsink.text_of(message))
            if found is None:
                continue
            to = message.get("To")
            for address in getattr(to, "addresses", ()):
                self.links[str(address.addr_spec).lower()] = found.group(0)

    def link_for(self, email: str) -> str | None:
        return self.links.get(email.lower())


# --- filling in the questionnaire --------------------------------------------------------


def fill(data: bytes, role: Role, *, mistakes: bool, seed: int) -> bytes:
    """The questionnaire as ``role`` returns it; with ``mistakes``, as a hurried first try.

    The mistakes are the common ones: two statuses left empty, one "fully implemented"
    without a word on the measures. The quality suite refuses that workbook.
    """
    from openpyxl import load_workbook

    from resotrack.questionnaires.i18n import as_language, status_label
    from resotrack.questionnaires.workbook import COLUMN_INDEX, RETURN_SHEET

    language = as_language(role.language)
    rng = random.Random(f"{seed}:{role.entity}")
    codes = [code for code, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    with warnings.catch_warnings():  # openpyxl warns about the dropdown's extension list
        warnings.simplefilter("ignore")
        book = load_workbook(io.BytesIO(data))
    sheet = book[RETURN_SHEET]

    def cell(row: int, key: str) -> Any:
        return sheet.cell(row=row, column=COLUMN_INDEX[key] + 1)

    answered = 0
    for row in range(2, sheet.max_row + 1):
        number = cell(row, "paragraph").value
        if number in (None, ""):
            continue
        code = rng.choices(codes, weights)[0]
        n = int(number)
        cell(row, "status").value = status_label(code, language)
        cell(row, "measures").value = MEASURES[language].format(
            n=n, entity=role.entity, year=2024 + n % 2
        )
        cell(row, "start_date").value = date(2024, 1, 8) + timedelta(days=(n * 7) % 540)
        cell(row, "national_body").value = NATIONAL_BODY[language]
        if code in ("partially_implemented", "not_started"):
            cell(row, "challenges").value = CHALLENGES[language]
        sloppy = role.sloppy_evidence and answered < 2
        evidence = NOT_A_LINK[language] if sloppy else None
        cell(row, "evidence").value = evidence or (
            f"https://gov.example.org/{role.entity.lower()}/oic/{n}"
        )
        if mistakes and answered < 2:
            cell(row, "status").value = None
        elif mistakes and answered == 2:
            cell(row, "status").value = status_label("fully_implemented", language)
            cell(row, "measures").value = None
        answered += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- using the portal --------------------------------------------------------------------


@dataclass
class Upload:
    """One upload a focal point made, and what the portal said about it."""

    entity: str
    day: int
    kind: Literal["first", "correction"]
    behaviour: Behaviour
    submission_id: int | None = None
    result_url: str | None = None
    duplicate: bool = False
    error: str | None = None


@dataclass
class FocalPoint:
    """One simulated person: their role, their mail, their browser."""

    role: Role
    links: LinkBook
    client: httpx.Client
    seed: int
    uploads: list[Upload] = field(default_factory=list)

    def acts_on(self, day: int) -> bool:
        return day in (self.role.day, self.role.correction_day)

    def pending_upload(self) -> Upload | None:
        """The latest upload if the portal still shows it as being checked: this run's, or
        one an interrupted earlier run made (the portal lists it)."""
        made = [u for u in self.uploads if u.result_url]
        latest = made[-1] if made else self._earlier_upload()
        return latest if latest is not None and self.state_of(latest) in PENDING else None

    def _earlier_upload(self) -> Upload | None:
        link = self.links.link_for(self.role.email)
        if link is None:
            return None
        try:
            page = self.client.get(link)
            history = self._history(page.text) if page.status_code == 200 else []
        except httpx.HTTPError:
            return None
        if not history:
            return None
        newest = int(history[0]["id"])  # newest first
        url = f"{link}/returns/{newest}"
        return Upload(self.role.entity, -1, "first", self.role.behaviour, newest, url)

    def act(self, day: int) -> Upload | None:
        """Do what the role says for ``day``; None when there is nothing (left) to do."""
        if not self.acts_on(day):
            return None
        kind: Literal["first", "correction"] = "first" if day == self.role.day else "correction"
        try:
            return self._act(day, kind)
        except httpx.HTTPError as exc:  # the portal did not answer in time: noted, not fatal
            return self._record(day, kind, error=f"{type(exc).__name__}: {exc}")

    def _act(self, day: int, kind: Literal["first", "correction"]) -> Upload | None:
        link = self.links.link_for(self.role.email)
        if link is None:
            return self._record(day, kind, error="no upload link in their mail")
        page = self.client.get(link)
        if page.status_code != 200:
            return self._record(day, kind, error=f"their link answered HTTP {page.status_code}")
        history = self._history(page.text)
        states = [str(h.get("state")) for h in history]  # newest first
        if any(state in DECIDED_OK for state in states):
            return None  # already done (a second run of the demo)
        if kind == "first":
            if states:
                return None  # they uploaded on an earlier run; the correction comes later
            mistakes = self.role.behaviour == "with_errors"
            return self._upload(day, kind, page.text, mistakes=mistakes)
        if states and states[0] in PENDING:
            return self._record(day, kind, error="the first upload is not decided yet")
        return self._upload(day, kind, page.text, mistakes=False)

    def state_of(self, upload: Upload) -> str | None:
        """What the focal point's result page says now (None if it does not answer)."""
        if upload.result_url is None:
            return None
        try:
            answer = self.client.get(upload.result_url, headers=JSON)
        except httpx.HTTPError:
            return None
        return str(answer.json().get("state")) if answer.status_code == 200 else None

    def _history(self, home_page: str) -> list[dict[str, Any]]:
        found = _UPLOAD.search(home_page)
        if found is None:
            return []
        returns = html.unescape(found.group(1)).split("?", 1)[0]
        answer = self.client.get(returns, headers=JSON)
        data = answer.json() if answer.status_code == 200 else []
        return [item for item in data if isinstance(item, dict)]

    def _upload(
        self, day: int, kind: Literal["first", "correction"], home_page: str, *, mistakes: bool
    ) -> Upload:
        questionnaire = _QUESTIONNAIRE.search(home_page)
        action = _UPLOAD.search(home_page)
        if questionnaire is None or action is None:
            return self._record(day, kind, error="no questionnaire or upload form on their page")
        download = self.client.get(html.unescape(questionnaire.group(1)))
        if download.status_code != 200:
            return self._record(day, kind, error=f"download: HTTP {download.status_code}")
        filled = fill(download.content, self.role, mistakes=mistakes, seed=self.seed)
        name = f"{self.role.entity}-{'corrected' if kind == 'correction' else 'return'}.xlsx"
        answer = self.client.post(
            html.unescape(action.group(1)),
            files={"file": (name, filled, XLSX)},
            headers=JSON,
        )
        if answer.status_code not in (200, 201):
            return self._record(day, kind, error=f"upload: HTTP {answer.status_code}")
        body = answer.json()
        return self._record(
            day,
            kind,
            submission_id=int(body["submission_id"]),
            result_url=str(body.get("url") or ""),
            duplicate=bool(body.get("duplicate")),
        )

    def _record(self, day: int, kind: Literal["first", "correction"], **values: Any) -> Upload:
        upload = Upload(self.role.entity, day, kind, self.role.behaviour, **values)
        self.uploads.append(upload)
        return upload
