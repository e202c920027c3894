"""Sixty days of reminders for 57 member states, day by day, over a real SMTP server.

The cycle opens and its questionnaires go out on day 0; the deadline is day 30, so the
default ladder falls on days 16 (D-14), 23 (D-7), 29 (D-1), 33 (D+3), 40 (D+10) and 60 (D+30).
The scheduler is off on days 23 and 24: the D-7 rung goes out on day 25 instead (catch-up).
Every simulated day runs twice, and the second run must change nothing.

The entities behave in five ways (plus a few twists named below), and the test asserts every
message each one received: which rung, which day, to whom, with which copies.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.dates import format_deadline
from resotrack.reminders import non_reporting_entities, run_reminders
from resotrack.store import session_scope
from resotrack.store.models import AuditLog
from support.reminders_world import (
    CC_SEN,
    DEADLINE,
    FP2_CMR,
    PROBLEMS,
    SECRETARIAT,
    World,
    build_world,
    fp,
    mail_env,  # noqa: F401  (fixture)
    on,
    plain,
    pm,
)
from support.smtp_server import SmtpServer

#: One message an entity (or its mission) receives: (day, kind, to, cc).
Delivery = tuple[int, str, str, tuple[str, ...]]
OFF = {23, 24}  # the machine is off: no run
D_14, D_7, D_1, D3, D10, D30 = 16, 25, 29, 33, 40, 60  # days the rungs actually go out

# Who does what (member state codes).
NO_MISSION = "TCD"  # never replies and has no permanent mission contact
BEING_CHECKED = "MAR"  # uploads on day 15; validation decides on day 17 (accepted)
UNREADABLE = "NER"  # refused-then-correct, but its first file could not even be opened


def behaviours(codes: list[str]) -> dict[str, list[str]]:
    """Split the 57 states into the five behaviours, the twists where they belong."""
    twists = {"SEN": "never", "TCD": "never", "CMR": "after_escalation", "MAR": "early"}
    twists[UNREADABLE] = "corrected"
    rest = [c for c in codes if c not in twists]
    groups: dict[str, list[str]] = defaultdict(list)
    for code, group in twists.items():
        groups[group].append(code)
    sizes = {"early": 12, "after_first": 12, "corrected": 10, "after_escalation": 12, "never": 11}
    for group, size in sizes.items():
        while len(groups[group]) < size:
            groups[group].append(rest.pop(0))
    assert not rest and sum(len(g) for g in groups.values()) == 57
    return dict(groups)


def expected_messages(world: World, groups: dict[str, list[str]]) -> dict[str, set[Delivery]]:
    """Per entity: {(day, kind, to, cc)} — every message it (or its mission) must receive."""
    reminders = [(D_14, "reminder"), (D_7, "reminder"), (D_1, "reminder"), (D3, "overdue")]
    plan: dict[str, list[tuple[int, str]]] = {
        "early": [],
        "after_first": reminders[:1],
        "corrected": [(D_14, "reminder"), (D_7, "correction_needed")],
        "after_escalation": [*reminders, (D10, "escalation")],
        "never": [*reminders, (D10, "escalation"), (D30, "final_notice")],
    }
    expected: dict[str, set[Delivery]] = {code: set() for code in world.codes}
    for group, codes in groups.items():
        for code in codes:
            for day, kind in plan[group]:
                if kind == "escalation":
                    if code != NO_MISSION:
                        expected[code].add((day, kind, pm(code), (SECRETARIAT,)))
                    continue
                copies: tuple[str, ...] = (CC_SEN,) if code == "SEN" else ()
                if kind == "final_notice" and code != NO_MISSION:
                    copies = (*copies, pm(code))
                people = [fp(code), FP2_CMR] if code == "CMR" else [fp(code)]
                for person in people:
                    expected[code].add((day, kind, person, copies))
    return expected


def simulate_replies(
    world: World, day: int, groups: dict[str, list[str]], ids: dict[str, int]
) -> None:
    """What the focal points do on ``day``, before the scheduler's run."""
    for code in groups["early"]:
        if code == BEING_CHECKED:
            if day == 15:
                ids[code] = world.reply(code, "received")
            elif day == 17:
                world.decide(ids[code], "accepted")
        elif day == 5:
            world.reply(code, "accepted")
    for code in groups["after_first"]:
        if day == 18:
            world.reply(code, "accepted_with_warnings")
    for code in groups["corrected"]:
        if day == 20:
            if code == UNREADABLE:
                world.reply(code, "unreadable", problems=[{"message": "not a workbook"}])
            else:
                world.reply(
                    code, "refused", problems=PROBLEMS, annotated=b"annotated " + code.encode()
                )
        elif day == 26:
            world.reply(code, "accepted")
    for code in groups["after_escalation"]:
        if day == 42:
            world.reply(code, "accepted")


def test_sixty_days_of_reminders(mail_env: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    world = build_world(mail_env, tmp_path, no_mission=[NO_MISSION])
    groups = behaviours(world.codes)
    ids: dict[str, int] = {}
    received_on: dict[str, int] = {}  # SMTP Message-ID -> simulated day
    # The budget is this process's CPU time (the SMTP server is a thread of it), not wall
    # time: on a loaded machine the run waits for a core far longer than it works.
    started, cpu = time.perf_counter(), time.process_time()
    for day in range(1, 61):
        with on(world.day(day)):
            simulate_replies(world, day, groups, ids)
            if day in OFF:
                continue
            before = len(mail_env.received())
            run_reminders()
            new = world.messages_since(before)
            for message in new:
                received_on[str(message.message["Message-ID"])] = day
            with session_scope() as s:
                rows = s.scalar(select(func.count()).select_from(OutboxMessage))
            again = run_reminders()  # the same day, once more: nothing at all
            assert again.messages == [] and again.reported == []
            assert len(mail_env.received()) == before + len(new)
            with session_scope() as s:
                assert s.scalar(select(func.count()).select_from(OutboxMessage)) == rows
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"\n60 days x 57 entities: {elapsed:.1f} s wall, {used:.1f} s CPU, "
        f"{len(received_on)} messages"
    )
    assert used < 45, f"the 60-day run took {used:.1f} s of CPU"

    # Every reminder message, by entity: (day, kind, to, cc), exactly as expected.
    outbox = world.outbox_by_message_id()
    actual: dict[str, set[Delivery]] = {code: set() for code in world.codes}
    summaries = []
    for message in mail_env.received():
        mid = str(message.message["Message-ID"])
        row = outbox[mid]
        if row.kind == "reminders_summary":
            summaries.append((received_on[mid], message))
            continue
        if row.kind in ("questionnaire", "dispatch_summary"):
            continue
        (to,) = row.to_addrs
        assert message.rcpt_tos == (to, *row.cc_addrs)  # the envelope matches the row
        actual[row.entity_code or ""].add((received_on[mid], row.kind, to, tuple(row.cc_addrs)))
    expected = expected_messages(world, groups)
    for code in world.codes:
        assert actual[code] == expected[code], code

    # The escalation goes to the mission with the Secretariat in copy, in the mission's
    # language; TCD has no mission: the Secretariat was told once, on day 40.
    escalations = [
        m for m in mail_env.received() if outbox[str(m.message["Message-ID"])].kind == "escalation"
    ]
    assert len(escalations) == 12 + 11 - 1
    for message in escalations:
        assert message.message["Cc"] == SECRETARIAT and message.message["To"].startswith("pm.")
    ((day, summary),) = summaries
    assert day == D10 and SECRETARIAT in summary.rcpt_tos
    assert f"({NO_MISSION})" in plain(summary) and "no permanent mission" in plain(summary)

    # Each message is in the recipient's language, shows the deadline in Gregorian and
    # Hijri, and carries its own upload link.
    links = set()
    for message in mail_env.received():
        row = outbox[str(message.message["Message-ID"])]
        if row.kind in ("questionnaire", "dispatch_summary", "reminders_summary"):
            continue
        text = plain(message)
        assert format_deadline(DEADLINE, row.language) in text  # type: ignore[arg-type]
        expected_language = (
            "en" if row.to_addrs == [FP2_CMR] else world.languages[row.entity_code or ""]
        )
        assert row.language == expected_language
        link = next(line.strip() for line in text.splitlines() if "/t/" in line)
        links.add(link)
    reminders_sent = sum(len(v) for v in expected.values())
    assert len(links) == reminders_sent  # a fresh personal link in every message

    # A refused return brought the correction request with its problems and the annotated
    # copy; the unreadable one had nothing to annotate.
    corrections = [
        m
        for m in mail_env.received()
        if outbox[str(m.message["Message-ID"])].kind == "correction_needed"
    ]
    assert len(corrections) == 10
    for message in corrections:
        row = outbox[str(message.message["Message-ID"])]
        attachments = list(message.message.iter_attachments())
        if row.entity_code == UNREADABLE:
            assert attachments == [] and "not a workbook" in plain(message)
        else:
            (copy,) = attachments
            assert copy.get_payload(decode=True) == b"annotated " + (row.entity_code or "").encode()
            text = plain(message)
            assert PROBLEMS[0]["message"][row.language] in text
            assert PROBLEMS[0]["fix"][row.language] in text

    # The final notices are in the audit log, and those entities are the non-reporting ones.
    with session_scope() as s:
        finals = set(
            s.scalars(select(AuditLog.subject).where(AuditLog.action == "reminders.final_notice"))
        )
        assert finals == {f"cycle {world.cycle_id} entity {c}" for c in groups["never"]}
        assert non_reporting_entities(s, world.cycle_id) == sorted(groups["never"])

    # Nothing more after the final notice.
    with on(world.day(60) + timedelta(days=5)):
        assert run_reminders().messages == []
