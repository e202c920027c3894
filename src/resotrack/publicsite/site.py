"""The public site: static pages of what states reported, from approved report builds only.

For every reporting cycle, the newest build the Secretariat approved (``approved`` or
``published``) is read back from its answers snapshot in the blob store: exactly what was
approved, never the live tables. Pages in Arabic (right to left), French and English: one per
resolution (each paragraph with every entity's status), one per state or institution, and an
index. An entity's narratives (measures and evidence) appear only if it consented
(:class:`PublicationConsent`); otherwise its statuses alone. The snapshot holds no focal
point; e-mail addresses typed into a narrative are masked all the same.

The site is written to a new folder beside ``out`` and swapped in whole, so a failed build
leaves the previous site as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.catalog import LANGUAGES, Language, Words
from resotrack.consolidation.builds import slug
from resotrack.consolidation.labels import COLOURS, INK, status_text
from resotrack.consolidation.models import ReportBuild
from resotrack.consolidation.snapshot import Snapshot
from resotrack.consolidation.tables import NO_REPLY, STATUS_COLUMNS
from resotrack.publicsite.models import PublicationConsent
from resotrack.registry.models import ReportingEntity
from resotrack.store.blobs import blob_store

APPROVED: Final = ("approved", "published")
DOMAIN: Final = "public"
ENDONYMS: Final[dict[Language, str]] = {"ar": "العربية", "en": "English", "fr": "Français"}
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


class SiteError(ValueError):
    """The site cannot be built (nothing approved, a snapshot missing)."""


@dataclass(frozen=True)
class SiteResult:
    folder: Path
    pages: int
    builds: list[int]

    def describe(self) -> str:
        return (
            f"public site written to {self.folder}: {self.pages} pages from "
            f"{len(self.builds)} approved report build(s)"
        )


def approved_builds(session: Session) -> list[ReportBuild]:
    """Per cycle, its newest approved build covering every paragraph (a build restricted to
    one theme, ``consolidate --theme``, is not the cycle's whole story); cycles with none are
    left out."""
    newest: dict[int, ReportBuild] = {}
    for build in session.scalars(
        select(ReportBuild)
        .where(ReportBuild.state.in_(APPROVED))
        .order_by(ReportBuild.cycle_id, ReportBuild.version.desc())
    ):
        if build.cycle_id not in newest and not (build.summary or {}).get("theme"):
            newest[build.cycle_id] = build
    return [newest[c] for c in sorted(newest)]


def set_consent(session: Session, entity_code: str, *, narratives: bool, actor: str) -> None:
    """Record whether the site may show ``entity_code``'s narratives (default: statuses only)."""
    code = entity_code.strip().upper()
    if session.get(ReportingEntity, code) is None:
        raise SiteError(f"no reporting entity has the code {entity_code!r}")
    row = session.get(PublicationConsent, code)
    if row is None:
        row = PublicationConsent(entity_code=code, narratives=narratives, set_by=actor)
        session.add(row)
    elif row.narratives != narratives:
        row.narratives, row.set_by, row.set_at = narratives, actor, clock.now()
    else:
        return
    audit.record(session, actor, "publication.consent", code, narratives=narratives)
    session.flush()


def _consenting(session: Session) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(PublicationConsent.entity_code).where(PublicationConsent.narratives.is_(True))
        )
    )


def mask(text: str | None) -> str | None:
    """A narrative with any e-mail address replaced by an ellipsis."""
    return _EMAIL.sub("…", text) if text else text


# --- the model the templates read --------------------------------------------------------


@dataclass
class _Cycle:
    build: ReportBuild
    snapshot: Snapshot


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("resotrack.publicsite", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _entity_name(row: dict[str, Any], lang: Language) -> str:
    return str(row.get(f"name_{lang}") or row["name_en"])


def _pages(cycles: list[_Cycle], consent: frozenset[str]) -> dict[str, str]:
    """Every page of the site by relative path."""
    env = _environment()
    pages: dict[str, str] = {}
    # What the pages show, language-free: resolutions, paragraphs, entities, answers.
    resolutions: list[dict[str, Any]] = []
    entities: dict[str, dict[str, Any]] = {}
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cycle in cycles:
        snap = cycle.snapshot
        for row in snap.entities.rows:
            entities[row[0]] = dict(zip(snap.entities.columns, row, strict=True))
        answers = {
            (a[0], a[1], a[2]): dict(zip(snap.answers.columns, a, strict=True))
            for a in snap.answers.rows
        }
        asked: dict[tuple[str, int], list[str]] = defaultdict(list)
        for entity, symbol, number in snap.asked.rows:
            asked[(symbol, number)].append(entity)
        texts = {(p[0], p[1]): p for p in snap.paragraphs.rows}
        for res in snap.resolutions:
            symbol = res["symbol"]
            paragraphs = []
            for (sym, number), p in sorted(texts.items(), key=lambda kv: kv[0][1]):
                if sym != symbol:
                    continue
                rows = []
                for entity in sorted(asked.get((sym, number), [])):
                    answer = answers.get((entity, sym, number))
                    narrative = entity in consent and answer is not None
                    item = {
                        "entity": entity,
                        "status": answer["status"] if answer else NO_REPLY,
                        "measures": mask(answer["measures"]) if narrative and answer else None,
                        "evidence": mask(answer["evidence"]) if narrative and answer else None,
                    }
                    rows.append(item)
                    by_entity[entity].append(
                        {"symbol": symbol, "slug": slug(symbol), "number": number, **item}
                    )
                counts = Counter(r["status"] for r in rows)
                paragraphs.append(
                    {
                        "number": number,
                        "section": p[2],
                        "text": p[3],
                        "rows": rows,
                        "counts": [(code, counts[code]) for code in STATUS_COLUMNS if counts[code]],
                        "narrated": any(r["measures"] or r["evidence"] for r in rows),
                    }
                )
            resolutions.append(
                {
                    **res,
                    "slug": slug(symbol),
                    "paragraphs": paragraphs,
                    "cycle": snap.cycle,
                    "approved_on": cycle.build.decided_at,
                }
            )

    for lang in LANGUAGES:
        words = Words(lang, DOMAIN)

        def when(value: Any, words: Words = words) -> str:
            if value is None:
                return ""
            if isinstance(value, str):
                value = date.fromisoformat(value[:10])
            if isinstance(value, datetime):
                value = value.date()
            return words.date(value)

        def bidi(message: str, words: Words = words, **values: Any) -> Markup:
            """A catalog sentence whose values (symbols, titles) keep their own direction."""
            template = Markup.escape(words(message))
            return template.format(
                **{k: Markup("<bdi>{}</bdi>").format(v) for k, v in values.items()}
            )

        def ordered(rows: list[dict[str, Any]], lang: Language = lang) -> list[dict[str, Any]]:
            return sorted(
                rows,
                key=lambda item: (_entity_name(entities[item["entity"]], lang), item["entity"]),
            )

        common = {
            "bidi": bidi,
            "ordered": ordered,
            "lang": lang,
            "dir": "rtl" if words.rtl else "ltr",
            "w": words,
            "when": when,
            "status": lambda code, lang=lang: status_text(code, lang),
            "colour": COLOURS,
            "ink": INK,
            "endonyms": ENDONYMS,
            "name": lambda code, lang=lang: _entity_name(entities[code], lang),
            "languages": LANGUAGES,
        }
        pages[f"{lang}/index.html"] = env.get_template("index.html").render(
            **common,
            here="index.html",
            root="../",
            cycles=[c.snapshot.cycle for c in cycles],
            builds=[c.build for c in cycles],
            resolutions=resolutions,
            entities=sorted(entities, key=lambda c: _entity_name(entities[c], lang)),
        )
        for res in resolutions:
            path = f"r/{res['slug']}.html"
            pages[f"{lang}/{path}"] = env.get_template("resolution.html").render(
                **common, here=path, root="../../", res=res
            )
        for code in entities:
            path = f"e/{code}.html"
            pages[f"{lang}/{path}"] = env.get_template("entity.html").render(
                **common,
                here=path,
                root="../../",
                code=code,
                rows=by_entity.get(code, []),
                narrated=any(r["measures"] or r["evidence"] for r in by_entity.get(code, [])),
                consented=code in consent,
            )
    pages["index.html"] = env.get_template("languages.html").render(
        endonyms=ENDONYMS, languages=LANGUAGES
    )
    return pages


def build_site(session: Session, out: Path) -> SiteResult:
    """Write the site to ``out`` (replaced whole); refuses when nothing is approved."""
    builds = approved_builds(session)
    if not builds:
        raise SiteError(
            "no report build has been approved yet, so there is nothing to publish: "
            "approve one with `resotrack reports approve`"
        )
    store = blob_store()
    cycles = []
    for build in builds:
        try:
            data = store.get(build.snapshot_sha256)
        except (KeyError, FileNotFoundError, LookupError) as exc:
            raise SiteError(
                f"the answers snapshot of report build {build.id} is missing from the blob "
                "store; restore it before publishing"
            ) from exc
        cycles.append(_Cycle(build, Snapshot.from_bytes(data)))
    pages = _pages(cycles, _consenting(session))

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for path, html in pages.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, "utf-8")
        (staging / "site.css").write_text(_css(), "utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}-old-{clock.now():%Y%m%d%H%M%S%f}")
            out.rename(old)
        staging.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SiteResult(out, len(pages), [b.id for b in builds])


def _css() -> str:
    from importlib import resources

    return (resources.files("resotrack.publicsite") / "templates" / "site.css").read_text("utf-8")
