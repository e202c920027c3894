"""The Secretariat's consolidation dashboard: per cycle, who has replied, who is late, who was
escalated; the heat map; every report build with its files; the GX Data Docs; and the review
buttons (accept a return, or send it back with a comment).

A router for the portal app (mounted under ``/resotrack`` inside Airflow's api-server, so
every page sits behind Airflow's login through the staff dependency). Staff pages open inside
the Airflow UI: the portal sends ``frame-ancestors 'self'`` for ``/staff`` paths.

Forms post with the Airflow session cookie, so each POST must come from this site: the
``Origin`` (or ``Referer``) header is checked against the request's own host.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route signatures at run
# time, and the staff dependency is a parameter of ``make_router`` (a local name).
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.templating import Jinja2Templates

from resotrack import clock
from resotrack.catalog import NP_, Language, ValueNames
from resotrack.catalog import language as catalog_language
from resotrack.consolidation import staff_words
from resotrack.consolidation.staff_words import StaffWords
from resotrack.settings import get_settings

HERE: Final = Path(__file__).parent
PREFIX: Final = "/staff/dashboard"
#: Where each entity stands with its return (the overview's ``status``).
ENTITY_STATUSES: Final = ValueNames(
    "entity status",
    {
        "on time": NP_("entity status", "replied on time"),
        "returned late": NP_("entity status", "replied late"),
        "late": NP_("entity status", "late"),
        "waiting": NP_("entity status", "waiting for a reply"),
    },
)
#: Report HTML embeds its charts as data: URIs and styles itself; it runs no script.
REPORT_CSP: Final = (
    "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
#: GX Data Docs need their own scripts and styles: they run sandboxed in an opaque origin,
#: so nothing in them can read the Airflow session.
GX_CSP: Final = (
    "sandbox allow-scripts allow-popups; default-src 'self' https: data: 'unsafe-inline'; "
    "frame-ancestors 'self'"
)
ATTACHMENT_SUFFIXES: Final = (".docx", ".xlsx", ".json", ".sha256")


def _templates(frame: Path) -> Jinja2Templates:
    """The dashboard's templates, extending the portal's frame (its ``templates`` folder)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), FileSystemLoader(frame)]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    )
    return Jinja2Templates(env=env)


class _PngCache:
    """Heat maps by snapshot hash: a page view redraws only when the answers changed."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


HEATMAPS: Final = _PngCache()


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _render(
    templates: Jinja2Templates,
    static_version: str,
    request: Request,
    template: str,
    context: dict[str, Any],
    lang: Language,
) -> Response:
    base = _base(request)
    values = {
        **staff_words.frame(request, lang, base),
        "css": f"{base}/static/portal.css?v={static_version}",
        **context,
    }
    answer = templates.TemplateResponse(request, template, values)
    return staff_words.remember(answer, request, lang)


def same_origin(request: Request) -> bool:
    """A form posted from our own pages (CSRF defence for cookie-authenticated POSTs).

    A browser says where a request comes from in ``Sec-Fetch-Site``, which no page can set:
    when it is there, it decides. Our pages send no referrer, so a browser posts their forms
    with ``Origin: null``; ``Origin`` and ``Referer`` are only read from clients that do not
    send ``Sec-Fetch-Site`` (older browsers, scripts)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    origin = urlsplit(source).netloc
    # Behind a reverse proxy the public host arrives as X-Forwarded-Host.
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")}
    return bool(origin) and origin in hosts


def gx_docs_root() -> Path:
    return get_settings().home / "gx" / "data_docs"


# --- what the pages show -------------------------------------------------------------------


def cycle_overview(
    cycle_id: int, today: date | None = None, theme: str | None = None, language: Language = "en"
) -> dict[str, Any]:
    """Everything the cycle page shows, as plain data (also the page's JSON). ``theme`` (a
    theme code): the counts and the entities cover only the paragraphs tagged with it.
    ``language``: of the names (entities, themes); states stay codes, the page names them."""
    from resotrack.consolidation.builds import entity_names, list_builds, theme_label
    from resotrack.consolidation.review import ACCEPTED
    from resotrack.consolidation.snapshot import cycle_themes, load_snapshot
    from resotrack.consolidation.tables import compute
    from resotrack.mail.models import OutboxMessage
    from resotrack.store import session_scope
    from resotrack.validation.models import Submission

    today = today or clock.today()
    with session_scope() as session:
        snapshot = load_snapshot(session, cycle_id, theme)
        themes = cycle_themes(session, cycle_id, language)
        escalations: dict[str, list[tuple[datetime, str]]] = {}
        for code, created, state in session.execute(
            select(OutboxMessage.entity_code, OutboxMessage.created_at, OutboxMessage.state)
            .where(OutboxMessage.cycle_id == cycle_id, OutboxMessage.kind == "escalation")
            .order_by(OutboxMessage.created_at)
        ):
            if code:
                escalations.setdefault(code, []).append((created, state))
        latest: dict[str, tuple[int | None, str | None, str | None]] = {}
        for sid, code, state, name in session.execute(
            select(Submission.id, Submission.entity_code, Submission.state)
            .add_columns(Submission.original_name)
            .where(Submission.cycle_id == cycle_id, Submission.entity_code.is_not(None))
            .order_by(Submission.id)
        ):
            latest[str(code)] = (sid, state, name)
        builds = [
            {
                "id": b.id,
                "version": b.version,
                "built_at": f"{b.built_at:%Y-%m-%d %H:%M}",
                "built_by": b.built_by,
                "state": b.state,
                "reviewer": b.reviewer,
                "comment": b.comment,
                "published_path": b.published_path,
                "rate": b.summary.get("response_rate"),
                "theme": theme_label(b.summary.get("theme"), language),
                "files": sorted(b.outputs),
                "stale": b.summary.get("stale") or [],
                "edited": len(b.summary.get("edited") or []),
            }
            for b in reversed(list_builds(session, cycle_id))
        ]
    tables = compute(snapshot)
    names = entity_names(tables, language)
    deadline = snapshot.deadline
    past_deadline = today > deadline
    entities = []
    for row in tables.entities.itertuples(index=False):
        code = str(row.entity)
        sid, sub_state, name = latest.get(code, (None, None, None))
        if row.returned:
            status = "on time" if row.on_time else "returned late"
        else:
            status = "late" if past_deadline else "waiting"
        entities.append(
            {
                "entity": code,
                "name": names.get(code, code) if language != "en" else row.name_en,
                "status": status,
                "late": status in ("late", "returned late"),
                "returned": bool(row.returned),
                "completeness": float(row.completeness),
                "versions": int(row.versions),
                "last_submission": _when(row.last_submission_at),
                "escalations": [
                    f"{created:%Y-%m-%d} ({state})" for created, state in escalations.get(code, [])
                ],
                "escalated": [
                    {"on": f"{created:%Y-%m-%d}", "mail": state}
                    for created, state in escalations.get(code, [])
                ],
                "submission": sid,
                "submission_state": sub_state,
                "submission_name": name,
                "reviewable": sub_state in ACCEPTED,
            }
        )
    return {
        "cycle": {
            "id": cycle_id,
            "title": snapshot.cycle["title"],
            "deadline": deadline.isoformat(),
            "state": snapshot.cycle["state"],
            "today": today.isoformat(),
        },
        "summary": tables.summary,
        "counts": {
            "replied": sum(e["returned"] for e in entities),
            "late": sum(e["late"] for e in entities),
            "escalated": sum(bool(e["escalations"]) for e in entities),
            "asked": len(entities),
        },
        "entities": entities,
        "builds": builds,
        "snapshot_sha256": snapshot.sha256,
        "themes": themes,
        "theme": None if theme is None else {"code": theme, "name": theme_label(theme, language)},
        "gx_docs": (gx_docs_root() / "index.html").is_file(),
    }


def _shown(overview: dict[str, Any], t: StaffWords) -> dict[str, Any]:
    """The overview as the page says it in ``t``'s language: states named, dates, numbers
    and percentages written the language's way (the JSON keeps codes and ISO dates)."""
    from resotrack.consolidation.builds import BUILD_STATES
    from resotrack.mail.labels import OUTBOX_STATES
    from resotrack.questionnaires.cycles import CYCLE_STATES
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    def moment(text: str | None) -> str:
        return t.moment(datetime.strptime(text, "%Y-%m-%d %H:%M")) if text else "–"

    cycle = overview["cycle"]
    counts = overview["counts"]
    return {
        **overview,
        "cycle": {
            **cycle,
            "deadline": t.day(cycle["deadline"]),
            "today": t.day(cycle["today"]),
            "state": t.capital(t.label(CYCLE_STATES, cycle["state"])),
        },
        "counts": {key: t.number(n) for key, n in counts.items()},
        "replied": counts["replied"],
        "rate": t.pct(overview["summary"].get("response_rate")),
        "entities": [
            {
                **e,
                "status": t.capital(t.label(ENTITY_STATUSES, e["status"])),
                "completeness": t.pct(e["completeness"]),
                "versions": t.number(e["versions"]),
                "last_submission": moment(e["last_submission"]),
                "escalations": [
                    f"{t.day(x['on'])} ({t.label(OUTBOX_STATES, x['mail'])})"
                    for x in e["escalated"]
                ],
                "submission_state": t.capital(t.label(SUBMISSION_STATES, e["submission_state"])),
            }
            for e in overview["entities"]
        ],
        "builds": [
            {
                **b,
                "version": t.number(b["version"]),
                "built_at": moment(b["built_at"]),
                "state": t.capital(t.label(BUILD_STATES, b["state"])),
                "rate": t.pct(b["rate"]),
            }
            for b in overview["builds"]
        ],
        "build_states": {b["id"]: b["state"] for b in overview["builds"]},
    }


def _when(value: Any) -> str | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"


def _heatmap_png(cycle_id: int, theme: str | None = None, language: Language = "en") -> bytes:
    from resotrack.consolidation.builds import entity_names
    from resotrack.consolidation.charts import status_matrix
    from resotrack.consolidation.snapshot import load_snapshot
    from resotrack.consolidation.tables import compute
    from resotrack.store import session_scope

    with session_scope() as session:
        snapshot = load_snapshot(session, cycle_id, theme)

    def draw() -> bytes:
        tables = compute(snapshot)
        names = entity_names(tables, language)
        return status_matrix(tables.matrix, names, language=language, svg=False).png

    return HEATMAPS.get(f"{snapshot.sha256}:{language}", draw)


# --- the router ----------------------------------------------------------------------------


def make_router(
    staff_dependency: Callable[..., Any],
    *,
    frame: Path,
    static_version: str,
    editor_dependency: Callable[..., Any] | None = None,
    language: Callable[[Request], str] | None = None,
) -> APIRouter:
    """The dashboard's routes behind ``staff_dependency`` (the portal's ``require_staff``),
    the review decision behind ``editor_dependency`` (``require_staff_editor``: an edit;
    ``staff_dependency`` when not given), drawn in the portal's ``frame`` templates with its
    stylesheet of ``static_version``, in the ``language`` the portal chooses for a request
    (English when not given): the portal mounts the dashboard, the dashboard does not import
    the portal."""
    if editor_dependency is None:
        editor_dependency = staff_dependency
    templates = _templates(frame)

    def page_language(request: Request) -> Language:
        return catalog_language(language(request) if language is not None else None)

    def render(
        request: Request, template: str, context: dict[str, Any], lang: Language
    ) -> Response:
        return _render(templates, static_version, request, template, context, lang)

    Staff = Annotated[Any, Depends(staff_dependency)]
    Editor = Annotated[Any, Depends(editor_dependency)]
    router = APIRouter(prefix=PREFIX)

    @router.get("/", name="dashboard_index")
    def index(request: Request, user: Staff) -> Response:
        """Every cycle with its latest build."""
        from resotrack.consolidation.builds import BUILD_STATES, latest_build
        from resotrack.questionnaires.cycles import CYCLE_STATES, list_cycles
        from resotrack.store import session_scope

        with session_scope() as session:
            cycles: list[dict[str, Any]] = []
            for c in list_cycles(session):
                build = latest_build(session, c.id)
                cycles.append(
                    {
                        "id": c.id,
                        "title": c.title,
                        "deadline": c.deadline.isoformat(),
                        "state": c.state,
                        "questionnaires": len(c.questionnaires),
                        "build": None
                        if build is None
                        else {"version": build.version, "state": build.state},
                    }
                )
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(cycles)
        lang = page_language(request)
        t = StaffWords(lang)
        shown = [
            {
                **c,
                "deadline": t.day(c["deadline"]),
                "state": t.capital(t.label(CYCLE_STATES, c["state"])),
                "questionnaires": t.number(c["questionnaires"]),
                "build": None
                if c["build"] is None
                else {
                    "version": t.number(c["build"]["version"]),
                    "state": t.capital(t.label(BUILD_STATES, c["build"]["state"])),
                },
            }
            for c in cycles
        ]
        context = {"user": user, "title": t("Consolidation by reporting cycle"), "cycles": shown}
        return render(request, "dashboard/index.html", context, lang)

    @router.get("/cycles/{cycle_id}", name="dashboard_cycle")
    def cycle(request: Request, user: Staff, cycle_id: int) -> Response:
        """Who replied, who is late, who was escalated; the heat map; builds; GX docs.
        ``?theme=CODE``: only the paragraphs tagged with that theme."""
        theme = request.query_params.get("theme") or None
        as_json = "application/json" in request.headers.get("accept", "")
        lang = page_language(request)
        try:
            overview = cycle_overview(cycle_id, theme=theme, language="en" if as_json else lang)
        except LookupError:
            return JSONResponse({"detail": f"cycle {cycle_id} not found"}, status_code=404)
        except ValueError as exc:  # an unknown theme, or one no paragraph of the cycle has
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if as_json:
            return JSONResponse(overview)
        t = StaffWords(lang)
        context = {
            "user": user,
            "title": t("Cycle {id}: consolidation", id=cycle_id),
            "done": request.query_params.get("done"),
            "error": request.query_params.get("error"),
            **_shown(overview, t),
        }
        return render(request, "dashboard/cycle.html", context, lang)

    @router.get("/cycles/{cycle_id}/heatmap.png", name="dashboard_heatmap")
    def heatmap_png(request: Request, user: Staff, cycle_id: int) -> Response:
        theme = request.query_params.get("theme") or None
        try:
            data = _heatmap_png(cycle_id, theme, page_language(request))
        except (LookupError, ValueError):
            return JSONResponse({"detail": f"cycle {cycle_id} not found"}, status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    @router.get("/builds/{build_id}/files/{name}", name="dashboard_build_file")
    def build_file(user: Staff, build_id: int, name: str) -> Response:
        """One file of a build, from the blob store."""
        from resotrack.consolidation.builds import content_type
        from resotrack.consolidation.models import ReportBuild
        from resotrack.intake.names import content_disposition
        from resotrack.store import session_scope
        from resotrack.store.blobs import BlobNotFound, blob_store

        with session_scope() as session:
            build = session.get(ReportBuild, build_id)
            sha = None if build is None else build.outputs.get(name)
        if sha is None:
            return JSONResponse({"detail": "no such file in this build"}, status_code=404)
        try:
            data = blob_store().get(sha)
        except BlobNotFound:
            return JSONResponse({"detail": "the stored file is missing"}, status_code=404)
        headers = {"Content-Security-Policy": REPORT_CSP, "ETag": f'"{sha}"'}
        disposition = content_disposition(name)
        if name.endswith(ATTACHMENT_SUFFIXES):
            headers["Content-Disposition"] = disposition
        else:
            headers["Content-Disposition"] = disposition.replace("attachment", "inline", 1)
        return Response(data, media_type=content_type(name), headers=headers)

    @router.get("/gx/{path:path}", name="dashboard_gx")
    def gx_docs(user: Staff, path: str) -> Response:
        """The Great Expectations Data Docs, if the validation stage has built them."""
        import mimetypes

        root = gx_docs_root().resolve()
        target = (root / (path or "index.html")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            return JSONResponse({"detail": "not found"}, status_code=404)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(
            target.read_bytes(), media_type=kind, headers={"Content-Security-Policy": GX_CSP}
        )

    @router.post("/submissions/{submission_id}/review", name="dashboard_review")
    def review(
        request: Request,
        user: Editor,
        submission_id: int,
        decision: Annotated[str, Form()],
        comment: Annotated[str, Form()] = "",
    ) -> Response:
        """Accept a return, or send it back with the comment (which the focal point reads)."""
        from resotrack.consolidation.review import (
            ReviewError,
            accept_submission,
            request_correction,
        )
        from resotrack.store import session_scope
        from resotrack.validation.models import Submission

        if not same_origin(request):
            raise HTTPException(403, "this form must be sent from the dashboard itself")
        lang = page_language(request)
        t = StaffWords(lang)
        reviewer = str(getattr(user, "name", user))
        cycle_id = None
        try:
            with session_scope() as session:
                found = session.get(Submission, submission_id)
                if found is None:
                    return JSONResponse({"detail": "submission not found"}, status_code=404)
                cycle_id = found.cycle_id
                if decision == "accept":
                    result = accept_submission(
                        session, submission_id, reviewer=reviewer, comment=comment
                    )
                elif decision == "correct":
                    result = request_correction(
                        session, submission_id, reviewer=reviewer, comment=comment
                    )
                else:
                    raise ReviewError("unknown decision {decision}", decision=repr(decision))
        except ReviewError as exc:
            return _back(request, cycle_id, lang, error=review_refusal(t, exc))
        if result.messages:
            _deliver()
        if result.decision == "accepted":
            done = t("Return #{id} accepted.", id=submission_id)
        elif result.warnings:
            done = t(
                "A correction was already requested for return #{id}; nothing was sent.",
                id=submission_id,
            )
        else:
            done = t("Return #{id} sent back for correction, with your comment.", id=submission_id)
        return _back(request, cycle_id, lang, done=done)

    @router.post("/builds/{build_id}/edits", name="dashboard_edits")
    def edits(
        request: Request,
        user: Editor,
        build_id: int,
        file: Annotated[UploadFile, File()],
    ) -> Response:
        """Take back a Word report staff edited: the next build keeps their text."""
        from resotrack.catalog import Words
        from resotrack.consolidation.drafts import MAX_FILE
        from resotrack.consolidation.edits import EditError, import_edits
        from resotrack.consolidation.models import ReportBuild
        from resotrack.store import session_scope

        if not same_origin(request):
            raise HTTPException(403, "this form must be sent from the dashboard itself")
        with session_scope() as session:
            found = session.get(ReportBuild, build_id)
            if found is None:
                return JSONResponse({"detail": "build not found"}, status_code=404)
            cycle_id = found.cycle_id
        lang = page_language(request)
        w = Words(lang, "cli")  # the refusals are the command line's too (import-edits)
        data = file.file.read(MAX_FILE + 1)
        try:
            if len(data) > MAX_FILE:
                raise EditError("The file is too large to be a report draft.")
            result = import_edits(build_id, data, actor=str(getattr(user, "name", user)))
        except EditError as exc:
            return _back(request, cycle_id, lang, error=w(exc.message, **exc.values))
        if not result.changed:
            return _back(
                request,
                cycle_id,
                lang,
                done=w("Nothing changed: every passage is as resotrack already has it."),
            )
        kept = result.edited + result.restored
        return _back(
            request,
            cycle_id,
            lang,
            done=w.n(
                "{n} passage kept as you wrote it: {keys}.",
                "{n} passages kept as you wrote them: {keys}.",
                len(kept),
                keys=", ".join(kept),
            )
            + " "
            + w("The next build of cycle {cycle} uses them.", cycle=cycle_id),
        )

    return router


def _deliver() -> None:
    """Send the queued emails now; a failure leaves them queued for the next delivery run."""
    import logging

    from resotrack.mail import OutboxDeliveryError, send_pending

    try:
        send_pending()
    except OutboxDeliveryError as exc:
        logging.getLogger(__name__).warning("review emails not all delivered: %s", exc)


def _back(request: Request, cycle_id: int | None, lang: Language, **message: str) -> Response:
    from urllib.parse import urlencode

    where = f"{_base(request)}{PREFIX}/" + (f"cycles/{cycle_id}" if cycle_id else "")
    query = urlencode({**message, "lang": lang})
    return RedirectResponse(f"{where}?{query}", status_code=303)


def review_refusal(t: StaffWords, exc: Any) -> str:
    """A :class:`~resotrack.consolidation.review.ReviewError` in the page's language, the
    state it names included."""
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    values = dict(exc.values)
    if "state" in values:
        values["state"] = t.label(SUBMISSION_STATES, values["state"])
    return t(exc.message, **values)
