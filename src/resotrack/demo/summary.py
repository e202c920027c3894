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

from resotrack.demo import mailsink
from resotrack.demo.simulate import DECIDED_OK
from resotrack.demo.stack import Layout, shown

if TYPE_CHECKING:
    from resotrack.demo.days import Simulation
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


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def show(console: Console, facts: dict[str, Any], where: Sequence[tuple[str, str]]) -> None:
    """The two tables: what happened, and where to look."""
    title = "resotrack demo — summary"
    if facts.get("synthetic"):
        title += " — SYNTHETIC session (generated resolutions, not adopted texts)"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, value in _what_happened(facts):
        table.add_row(name, value)
    console.print(table)
    look = Table(title="Where to look", show_header=False, title_justify="left")
    look.add_column(style="bold", no_wrap=True)
    look.add_column(overflow="fold")
    for name, value in where:
        look.add_row(name, value)
    console.print(look)


def _what_happened(facts: dict[str, Any]) -> list[tuple[str, str]]:
    sim, cycle, entities = facts["simulation"], facts["cycle"], facts["entities"]
    listed = facts["resolutions"]
    resolutions = (
        "\n".join(map(_resolution, listed))
        if len(listed) <= LISTED
        else f"{len(listed)} SYNTHETIC resolutions, {span(listed)}, "
        f"{sum(r['paragraphs'] for r in listed)} operative paragraphs in all "
        f"({sum(1 for r in listed if r['created'])} imported by this run)"
    )
    rows = [
        ("Resolutions", resolutions),
        (
            "Reporting entities",
            f"{entities['member_states']} member states, {entities['institutions']} institutions",
        ),
        ("Focal points", f"import: {facts['focal_points']}"),
        (
            "Cycle",
            f"#{cycle['id']} “{cycle.get('title', DEMO_TITLE)}”, deadline {cycle['deadline']}, "
            f"{cycle['questionnaires']} questionnaires" + (" (reused)" if cycle["reused"] else ""),
        ),
        (f"Focal points, {sim['days']} simulated days", _simulation(sim)),
        ("Returns", _returns(facts)),
        ("Email", _mail(facts["mail"])),
        ("Report", _report(facts["report"])),
        ("Airflow", _airflow(facts["airflow"])),
    ]
    notes = [*_airflow_notes(facts["airflow"]), *sim["problems"][:5]]
    rows += [("[yellow]Note[/]", note) for note in notes]
    minutes, seconds = divmod(round(facts["seconds_to_summary"]), 60)
    return [*rows, ("Time to summary", f"{minutes} min {seconds:02d} s")]


def _airflow(airflow: dict[str, Any]) -> str:
    runs = airflow["ingest_runs"]
    validated = (
        "the ingest runs could not be listed (see logs/demo.log)"
        if runs is None
        else f"{airflow['uploads']} uploads, {runs.get('upload', 0)} ingest_return runs they "
        f"triggered; {runs.get('by_hand', 0)} sweeps started by hand, "
        f"{runs.get('scheduled', 0)} by its 5-minute schedule"
    )
    return (
        f"metadata database: {airflow['metadata_database']} (embedded, in "
        f"{shown(airflow['postgres_data'])}/), "
        f"LocalExecutor, parallelism {airflow['parallelism']}\n"
        f"standalone ran throughout: every component up at each of "
        f"{airflow['component_checks']} checks, no restart\n{validated}"
    )


def _airflow_notes(airflow: dict[str, Any]) -> list[str]:
    """What went differently from the plan: a trigger that did not reach Airflow."""
    runs = airflow["ingest_runs"]
    lost = airflow["uploads"] - runs.get("upload", 0) if runs is not None else 0
    if lost <= 0:
        return []
    return [
        f"{lost} uploads' ingest triggers did not reach Airflow: the 5-minute sweep "
        "validated those returns"
    ]


def span(resolutions: Sequence[Imported | dict[str, Any]]) -> str:
    """The first and last symbols of many resolutions: ``1/49-POL … 40/49-IT``."""
    symbols = [r.symbol if isinstance(r, Imported) else r["symbol"] for r in resolutions]
    if not symbols:
        return "none"
    return symbols[0] if len(symbols) == 1 else f"{symbols[0]} … {symbols[-1]}"


def _resolution(r: dict[str, Any]) -> str:
    again = "" if r["created"] else " (already imported)"
    return f"{r['symbol']} v{r['version']}: {r['paragraphs']} operative paragraphs{again}"


def _simulation(sim: dict[str, Any]) -> str:
    planned = sim["planned"]
    return (
        f"{sim['focal_points']} asked · planned: {planned.get('on_time', 0)} on time, "
        f"{planned.get('with_errors', 0)} with mistakes then corrected, "
        f"{planned.get('late', 0)} late (after the simulated deadline), "
        f"{planned.get('never', 0)} never\n"
        f"uploaded this run: {sum(sim['first_uploads'].values())} first returns, "
        f"{sim['corrections']} corrections"
    )


def _returns(facts: dict[str, Any]) -> str:
    replied, asked = facts["entities_replied"], facts["cycle"]["questionnaires"]
    states = sorted(facts["submissions"].items())
    return f"{replied} of {asked} entities accepted ({_percent(replied, asked)}) · " + ", ".join(
        f"{n} {state.replace('_', ' ')}" for state, n in states
    )


def _mail(mail: dict[str, Any]) -> str:
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(mail["sent_by_kind"].items()))
    not_sent = f" · {mail['not_sent']} not sent" if mail["not_sent"] else ""
    return f"sent: {kinds or 'none'}{not_sent}\n{mail['in_maildir']} messages in the mail folder"


def _report(report: dict[str, Any]) -> str:
    waiting = f" in publish_report run {report['run_id']}" if report.get("run_id") else ""
    return (
        f"build v{report['version']} (id {report['build_id']}): {report['headline']}\n"
        "(“on time” by the simulated day each upload was received on)\n"
        f"{report['state'].replace('_', ' ')}{waiting}"
    )
