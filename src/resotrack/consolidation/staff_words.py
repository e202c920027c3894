"""Every word the Secretariat reads on its pages, in Arabic, English or French: the ``staff``
catalog domain, and the frame every staff page shares (language switcher, right-to-left for
Arabic). The names of the stored values those pages show (states, channels, kinds) are the
stages' own tables (:class:`~resotrack.catalog.ValueNames`), said through :meth:`StaffWords.label`.

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

from resotrack.catalog import LANGUAGES, NATIVE_NAMES, RTL, Language, ValueNames, Words, capital

DOMAIN: Final = "staff"
#: The cookie that keeps a language chosen with ``?lang=`` from one staff page to the next.
COOKIE: Final = "resotrack_staff_lang"
#: Query values that are the page's message or language, not what it shows.
SPOKEN: Final = frozenset({"lang", "done", "error"})


class StaffWords(Words):
    """The ``staff`` domain in one language, with the names of values and Babel's formats."""

    def __init__(self, lang: Language) -> None:
        super().__init__(lang, DOMAIN)

    def label(self, names: ValueNames, code: object) -> str:
        """The name of ``code`` (a state, a channel …) in this language, lowercase as it
        reads inside a sentence; an unknown code as it is stored, so nothing is hidden."""
        return names.name(self.language, code)

    @staticmethod
    def capital(text: str) -> str:
        """``text`` as a table cell or a heading starts it: a capital first letter."""
        return capital(text)

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
        "capital": capital,
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
