"""The demo's closing summary: what happened (read back from the database and the mail folder,
not from what the story meant to do) and where to look next.

``facts`` is a plain dict, printed as a rich table and saved as JSON beside the demo's other
files, so a test or a CI job can check a run without parsing the screen.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console
from rich.table import Table

from resotrack.catalog import Words
from resotrack.demo import mailsink
from resotrack.demo.simulate import DECIDED_OK
from resotrack.demo.stack import Layout, shown

if TYPE_CHECKING:
    from resotrack.demo.days import Simulation
from resotrack.demo.words import words
from resotrack.demo.world import DEMO_TITLE, Cycle, Imported, Registry

#: Up to this many resolutions are listed one per line; more are summed up (``--session``).
LISTED: Final = 6


def collect(
    *,
    layout: Layout,
    registry: Registry,
    resolutions: Sequence[Imported],
    focal_points: str,
    cycle: Cycle,
    simulation: Simulation,
    report: dict[str, Any],
    airflow: dict[str, Any],
    where: dict[str, str],
    dashboard: int | None,
    seconds: float,
) -> dict[str, Any]:
    """Every figure of the summary, as JSON-ready values."""
    from resotrack.intake.queries import list_submissions
    from resotrack.mail import list_messages
    from resotrack.store import session_scope

    with session_scope() as session:
        submissions = list_submissions(session, cycle.id)
        states = Counter(s.state for s in submissions)
        replied = {s.entity_code for s in submissions if s.state in DECIDED_OK and s.entity_code}
        mail = Counter((m.kind, m.state) for m in list_messages(session, cycle_id=cycle.id))
    uploads = simulation.uploads
    acted = Counter(u.behaviour for u in uploads if u.submission_id and u.kind == "first")
    sent = Counter(kind for (kind, state) in mail.elements() if state == "sent")
    return {
        "home": str(layout.home),
        "resolutions": [r.__dict__ for r in resolutions],
        "entities": {
            "member_states": registry.member_states,
            "institutions": registry.institutions,
        },
        "focal_points": focal_points,
        "synthetic": cycle.title != DEMO_TITLE,
        "cycle": {
            "id": cycle.id,
            "title": cycle.title,
            "deadline": cycle.deadline.isoformat(),
            "questionnaires": cycle.questionnaires,
            "reused": cycle.reused,
        },
        "simulation": {
            "days": simulation.days,
            "focal_points": len(simulation.roles),
            "planned": dict(Counter(r.behaviour for r in simulation.roles)),
            "first_uploads": dict(acted),
            "corrections": sum(1 for u in uploads if u.submission_id and u.kind == "correction"),
            "problems": [f"{u.entity} (day {u.day}): {u.error}" for u in uploads if u.error],
        },
        "submissions": dict(states),
        "entities_replied": len(replied),
        "mail": {
            "sent_by_kind": dict(sent),
            "not_sent": sum(n for (_, state), n in mail.items() if state != "sent"),
            "in_maildir": mailsink.count(layout.maildir),
        },
        "report": report,
        "dashboard_status": dashboard,
        "where": where,
        "airflow": airflow,
        "seconds_to_summary": round(seconds, 1),
    }


def save(facts: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")


def _percent(w: Words, part: int, whole: int) -> str:
    return w("{n} %", n=f"{100 * part / whole:.0f}") if whole else "–"


def show(console: Console, facts: dict[str, Any], where: Sequence[tuple[str, str]]) -> None:
    """The two tables: what happened, and where to look (in the terminal's language)."""
    w = words()
    title = w("resotrack demo — summary")
    if facts.get("synthetic"):
        title += w(" — SYNTHETIC session (generated resolutions, not adopted texts)")
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, value in _what_happened(w, facts):
        table.add_row(name, value)
    console.print(table)
    look = Table(title=w("Where to look"), show_header=False, title_justify="left")
    look.add_column(style="bold", no_wrap=True)
    look.add_column(overflow="fold")
    for name, value in where:
        look.add_row(w(name), w.said(value))
    console.print(look)


def _what_happened(w: Words, facts: dict[str, Any]) -> list[tuple[str, str]]:
    sim, cycle, entities = facts["simulation"], facts["cycle"], facts["entities"]
    listed = facts["resolutions"]
    resolutions = (
        "\n".join(_resolution(w, r) for r in listed)
        if len(listed) <= LISTED
        else w(
            "{n} SYNTHETIC resolutions, {span}, {paragraphs} operative paragraphs in all "
            "({imported} imported by this run)",
            n=len(listed),
            span=span(listed),
            paragraphs=sum(r["paragraphs"] for r in listed),
            imported=sum(1 for r in listed if r["created"]),
        )
    )
    said_cycle = {
        "cycle": cycle["id"],
        "title": cycle.get("title", DEMO_TITLE),
        "deadline": cycle["deadline"],
        "n": cycle["questionnaires"],
    }
    rows = [
        (w("Resolutions"), resolutions),
        (
            w("Reporting entities"),
            w(
                "{member_states} member states, {institutions} institutions",
                member_states=entities["member_states"],
                institutions=entities["institutions"],
            ),
        ),
        (w("Focal points"), w("import: {done}", done=w.said(facts["focal_points"]))),
        (
            w("Cycle"),
            w("#{cycle} “{title}”, deadline {deadline}, {n} questionnaires (reused)", **said_cycle)
            if cycle["reused"]
            else w("#{cycle} “{title}”, deadline {deadline}, {n} questionnaires", **said_cycle),
        ),
        (w("Focal points, {n} simulated days", n=sim["days"]), _simulation(w, sim)),
        (w("Returns"), _returns(w, facts)),
        (w("Email"), _mail(w, facts["mail"])),
        (w("Report"), _report(w, facts["report"])),
        (w("Airflow"), _airflow(w, facts["airflow"])),
    ]
    notes = [*_airflow_notes(w, facts["airflow"]), *sim["problems"][:5]]
    rows += [("[yellow]{}[/]".format(w("Note")), note) for note in notes]
    minutes, seconds = divmod(round(facts["seconds_to_summary"]), 60)
    took = w("{minutes} min {seconds} s", minutes=minutes, seconds=f"{seconds:02d}")
    return [*rows, (w("Time to summary"), took)]


def _airflow(w: Words, airflow: dict[str, Any]) -> str:
    runs = airflow["ingest_runs"]
    validated = (
        w("the ingest runs could not be listed (see logs/demo.log)")
        if runs is None
        else w(
            "{uploads} uploads, {upload_runs} ingest_return runs they triggered; {by_hand} "
            "sweeps started by hand, {scheduled} by its 5-minute schedule",
            uploads=airflow["uploads"],
            upload_runs=runs.get("upload", 0),
            by_hand=runs.get("by_hand", 0),
            scheduled=runs.get("scheduled", 0),
        )
    )
    said = w(
        "metadata database: {database} (embedded, in {folder}/), LocalExecutor, parallelism "
        "{parallelism}\nstandalone ran throughout: every component up at each of {checks} "
        "checks, no restart",
        database=airflow["metadata_database"],
        folder=shown(airflow["postgres_data"]),
        parallelism=airflow["parallelism"],
        checks=airflow["component_checks"],
    )
    return f"{said}\n{validated}"


def _airflow_notes(w: Words, airflow: dict[str, Any]) -> list[str]:
    """What went differently from the plan: a trigger that did not reach Airflow."""
    runs = airflow["ingest_runs"]
    lost = airflow["uploads"] - runs.get("upload", 0) if runs is not None else 0
    if lost <= 0:
        return []
    return [
        w(
            "{n} uploads' ingest triggers did not reach Airflow: the 5-minute sweep validated "
            "those returns",
            n=lost,
        )
    ]


def span(resolutions: Sequence[Imported | dict[str, Any]]) -> str:
    """The first and last symbols of many resolutions: ``1/49-POL … 40/49-IT``."""
    symbols = [r.symbol if isinstance(r, Imported) else r["symbol"] for r in resolutions]
    if not symbols:
        return "none"
    return symbols[0] if len(symbols) == 1 else f"{symbols[0]} … {symbols[-1]}"


def _resolution(w: Words, r: dict[str, Any]) -> str:
    said = {"symbol": r["symbol"], "version": r["version"], "n": r["paragraphs"]}
    if r["created"]:
        return w("{symbol} v{version}: {n} operative paragraphs", **said)
    return w("{symbol} v{version}: {n} operative paragraphs (already imported)", **said)


def _simulation(w: Words, sim: dict[str, Any]) -> str:
    planned = sim["planned"]
    return w(
        "{asked} asked · planned: {on_time} on time, {with_errors} with mistakes then corrected, "
        "{late} late (after the simulated deadline), {never} never\nuploaded this run: "
        "{first} first returns, {corrections} corrections",
        asked=sim["focal_points"],
        on_time=planned.get("on_time", 0),
        with_errors=planned.get("with_errors", 0),
        late=planned.get("late", 0),
        never=planned.get("never", 0),
        first=sum(sim["first_uploads"].values()),
        corrections=sim["corrections"],
    )


def _returns(w: Words, facts: dict[str, Any]) -> str:
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    replied, asked = facts["entities_replied"], facts["cycle"]["questionnaires"]
    states = sorted(facts["submissions"].items())
    said = w(
        "{replied} of {asked} entities accepted ({rate})",
        replied=replied,
        asked=asked,
        rate=_percent(w, replied, asked),
    )
    names = ", ".join(f"{n} {SUBMISSION_STATES.name(w.language, state)}" for state, n in states)
    return f"{said} · {names}"


def _mail(w: Words, mail: dict[str, Any]) -> str:
    from resotrack.mail.labels import MESSAGE_KINDS

    kinds = ", ".join(
        f"{n} {MESSAGE_KINDS.name(w.language, kind)}"
        for kind, n in sorted(mail["sent_by_kind"].items())
    )
    sent = w("sent: {kinds}", kinds=kinds or w("none"))
    if mail["not_sent"]:
        sent += w(" · {n} not sent", n=mail["not_sent"])
    return sent + "\n" + w("{n} messages in the mail folder", n=mail["in_maildir"])


def _report(w: Words, report: dict[str, Any]) -> str:
    from resotrack.consolidation.builds import BUILD_STATES

    said = w(
        "build v{version} (id {build}): {headline}",
        version=report["version"],
        build=report["build_id"],
        headline=w.said(report["headline"]),
    )
    state = BUILD_STATES.name(w.language, report["state"])
    if report.get("run_id"):
        state = w("{state} in publish_report run {run}", state=state, run=report["run_id"])
    note = w("(“on time” by the simulated day each upload was received on)")
    return f"{said}\n{note}\n{state}"
