"""Every word the Secretariat reads on its pages, in Arabic, English or French: the ``staff``
catalog domain, the names of the values those pages show (states, channels, decisions), and
the frame every staff page shares (language switcher, right-to-left for Arabic).

The returns pages (``resotrack.portal.staff``) and the consolidation dashboard use it alike;
the portal chooses the page's language (``?lang=``, then the cookie a choice leaves, then
``Accept-Language``) and the dashboard is handed that choice, as it is handed the login.
Message ids are English sentences written where they are said: ``t("…")`` in the templates
and code, ``t.n(…)`` / ``tn(…)`` for counts; ``make catalogs`` extracts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from resotrack.catalog import LANGUAGES, NATIVE_NAMES, NP_, RTL, Language, Words

DOMAIN: Final = "staff"
#: The cookie that keeps a language chosen with ``?lang=`` from one staff page to the next.
COOKIE: Final = "resotrack_staff_lang"
#: Query values that are the page's message or language, not what it shows.
SPOKEN: Final = frozenset({"lang", "done", "error"})

#: What a stored code means, by the kind of value: its message context, and by code the
#: English message id (marked for ``make catalogs`` with its context).
LABELS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "submission": (
        "submission state",
        {
            "received": NP_("submission state", "Received"),
            "validating": NP_("submission state", "Being checked"),
            "accepted": NP_("submission state", "Accepted"),
            "accepted_with_warnings": NP_("submission state", "Accepted with warnings"),
            "refused": NP_("submission state", "Refused"),
            "unreadable": NP_("submission state", "Unreadable"),
            "correction_requested": NP_("submission state", "Correction requested"),
            "superseded": NP_("submission state", "Superseded"),
            "rejected": NP_("submission state", "Rejected"),
            "failed": NP_("submission state", "Check failed"),
        },
    ),
    "cycle": (
        "cycle state",
        {
            "waiting": NP_("cycle state", "Being prepared"),
            "open": NP_("cycle state", "Open"),
            "closed": NP_("cycle state", "Closed"),
        },
    ),
    "channel": (
        "channel",
        {
            "portal": NP_("channel", "Portal"),
            "email": NP_("channel", "Email"),
            "dropfolder": NP_("channel", "Drop folder"),
            "cli": NP_("channel", "Command line"),
        },
    ),
    "build": (
        "build state",
        {
            "built": NP_("build state", "Built"),
            "awaiting_approval": NP_("build state", "Awaiting approval"),
            "approved": NP_("build state", "Approved"),
            "rejected": NP_("build state", "Rejected"),
            "published": NP_("build state", "Published"),
        },
    ),
    "entity": (
        "entity status",
        {
            "on time": NP_("entity status", "Replied on time"),
            "returned late": NP_("entity status", "Replied late"),
            "late": NP_("entity status", "Late"),
            "waiting": NP_("entity status", "Waiting"),
        },
    ),
    "theme": (
        "theme kind",
        {
            "sdg": NP_("theme kind", "Sustainable Development Goal"),
            "subject": NP_("theme kind", "Subject"),
        },
    ),
    "outbox": (
        "mail state",
        {
            "pending": NP_("mail state", "queued"),
            "sending": NP_("mail state", "being sent"),
            "sent": NP_("mail state", "sent"),
            "failed": NP_("mail state", "not delivered"),
            "uncertain": NP_("mail state", "delivery uncertain"),
        },
    ),
}


class StaffWords(Words):
    """The ``staff`` domain in one language, with the names of values and Babel's formats."""

    def __init__(self, lang: Language) -> None:
        super().__init__(lang, DOMAIN)

    def label(self, kind: str, code: object) -> str:
        """The name of ``code`` (a state, a channel …) in this language; an unknown code as
        it is stored, so nothing is hidden."""
        context, names = LABELS[kind]
        found = names.get(str(code or ""))
        return self.p(context, found) if found else str(code or "")

    def day(self, value: date | str | None) -> str:
        """A date as this language writes it (``7 déc. 2026``, ``٧‏/١٢‏/٢٠٢٦``)."""
        if value is None:
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return self.date(value, "medium")

    def moment(self, value: datetime | None) -> str:
        """A date and time (UTC, as stored) as this language writes them."""
        if value is None:
            return "–"
        from babel.dates import format_time

        from resotrack.catalog import LOCALES

        clock_time = format_time(value.time(), "short", locale=LOCALES[self.language])
        return f"{self.day(value.date())} {clock_time}"

    @property
    def colon(self) -> str:
        """What comes between a name and what it says: French puts a no-break space first."""
        return "\u00a0: " if self.language == "fr" else ": "

    def join(self, items: Iterable[object]) -> str:
        """Items one after the other, with this language's comma."""
        return ("، " if self.language == "ar" else ", ").join(str(i) for i in items)

    def pct(self, value: float | None) -> str:
        return "–" if value is None or value != value else self.percent(float(value))


def frame(request: Request, lang: Language, base: str) -> dict[str, Any]:
    """What every staff page's frame needs: the language, its direction, the words and the
    switcher (links to this same page, with its other query, in each language)."""
    t = StaffWords(lang)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in SPOKEN]
    switch = [
        {
            "code": code,
            "name": NATIVE_NAMES[code],
            "href": f"{request.url.path}?{urlencode([*kept, ('lang', code)])}",
            "current": code == lang,
        }
        for code in LANGUAGES
    ]
    return {
        "lang": lang,
        "dir": "rtl" if lang in RTL else "ltr",
        "t": t,
        "tn": t.n,
        "switch": switch,
        "base": base,
    }


def remember(response: Response, request: Request, lang: Language) -> Response:
    """Keep a language chosen with ``?lang=`` for the next staff pages (a cookie of the
    portal's path, for a year)."""
    if request.query_params.get("lang"):
        path = str(request.scope.get("root_path", "")).rstrip("/") + "/staff"
        response.set_cookie(
            COOKIE, lang, max_age=365 * 86400, path=path, httponly=True, samesite="lax"
        )
    return response
