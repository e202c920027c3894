"""The reminder rules, day by day, without a database: :mod:`resotrack.reminders.plan`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from resotrack.reminders.ladder import Fatigue, Rung, default_ladder, parse_ladder
from resotrack.reminders.plan import (
    Contact,
    CycleFacts,
    EntityFacts,
    EntityStanding,
    Sent,
    SubmissionFact,
    audience,
    due_rung,
    fatigue_verdict,
    message_kind,
    plan_cycle,
    standing_of,
)

DEADLINE = date(2026, 6, 30)
SENT_ON = DEADLINE - timedelta(days=30)  # the questionnaire went out then


def D(offset: int) -> date:
    return DEADLINE + timedelta(days=offset)


def sub(n: int, state: str, day: int = 0) -> SubmissionFact:
    return SubmissionFact(n, state, datetime(2026, 6, 1 + day, 12, tzinfo=UTC), f"{n}.xlsx")


def entity(
    code: str = "SEN",
    *,
    standing: EntityStanding | None = None,
    contacts: Sequence[Contact] | None = None,
) -> EntityFacts:
    people = (
        contacts
        if contacts is not None
        else [
            Contact(1, "Focal", "fp@gov.example", "fr", "focal_point"),
            Contact(2, "Mission", "pm@mission.example", "fr", "permanent_mission"),
            Contact(3, "Copy", "cc@gov.example", "fr", "cc"),
        ]
    )
    return EntityFacts(
        code,
        {"en": code, "fr": code, "ar": code},
        "fr",
        12,
        tuple(people),
        standing or EntityStanding("no_return"),
    )


def cycle(
    *entities: EntityFacts,
    ladder: Sequence[Rung] | None = None,
    fatigue: Fatigue | None = None,
    sent: dict[int, tuple[Sent, ...]] | None = None,
) -> CycleFacts:
    return CycleFacts(
        1,
        "Follow-up",
        DEADLINE,
        tuple(ladder if ladder is not None else default_ladder()),
        fatigue or Fatigue(6, 3),
        tuple(entities or [entity()]),
        sent if sent is not None else {1: (Sent(SENT_ON),), 2: (), 3: ()},
        ("secretariat@oic.example",),
    )


def live(facts: CycleFacts, days: Iterable[int]) -> list[tuple[int, str, str]]:
    """Run the plan on each day, feeding what it sends back as history (a pure time travel).

    Returns ``(day, rung label, recipient)`` for every message sent.
    """
    sent = {k: list(v) for k, v in facts.sent.items()}
    log = []
    for day in days:
        today = D(day)
        plan = plan_cycle(replace(facts, sent={k: tuple(v) for k, v in sent.items()}), today)
        for message in plan.messages:
            sent.setdefault(message.to.id, []).append(Sent(today, message.rung))
            log.append((day, message.rung.label, message.to.email))
    return log


# --- what an entity owes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("returns", "standing", "about"),
    [
        ([], "no_return", None),
        ([sub(1, "refused")], "needs_correction", 1),
        ([sub(1, "unreadable")], "needs_correction", 1),
        ([sub(1, "refused"), sub(2, "received", 1)], "being_checked", 2),
        ([sub(1, "refused"), sub(2, "validating", 1)], "being_checked", 2),
        ([sub(1, "refused"), sub(2, "accepted", 1)], "returned", 2),
        # An accepted return stands even if a later file is refused.
        ([sub(1, "accepted_with_warnings"), sub(2, "refused", 1)], "returned", 1),
        # Sent back by staff after review: owed again, with the newest refusal to show.
        ([sub(1, "correction_requested")], "needs_correction", 1),
        ([sub(1, "accepted"), sub(2, "correction_requested", 1)], "needs_correction", 2),
        ([sub(1, "correction_requested"), sub(2, "refused", 1)], "needs_correction", 2),
        ([sub(1, "correction_requested"), sub(2, "accepted", 1)], "returned", 2),
    ],
)
def test_what_an_entity_owes(
    returns: list[SubmissionFact], standing: str, about: int | None
) -> None:
    found = standing_of(list(reversed(returns)))  # the order given does not matter
    assert found.standing == standing
    assert (found.submission.id if found.submission else None) == about


# --- which rung ----------------------------------------------------------------------------


def test_the_rung_due_is_the_latest_whose_day_has_come() -> None:
    ladder = default_ladder()
    assert due_rung(ladder, -15) is None
    assert due_rung(ladder, -14) == Rung(-14, "reminder")
    assert due_rung(ladder, -5) == Rung(-7, "reminder")  # D-7 missed: caught up on D-5
    assert due_rung(ladder, 12) == Rung(10, "escalation")
    assert due_rung(ladder, 400) == Rung(30, "final")


def test_a_refused_return_turns_reminders_into_correction_requests() -> None:
    assert message_kind("reminder", "needs_correction") == "correction_needed"
    assert message_kind("overdue", "needs_correction") == "correction_needed"
    assert message_kind("escalation", "needs_correction") == "escalation"
    assert message_kind("final", "needs_correction") == "final_notice"
    assert message_kind("reminder", "no_return") == "reminder"


# --- fatigue -----------------------------------------------------------------------------


def test_fatigue_counts_ladder_messages_for_the_cap_and_every_message_for_the_gap() -> None:
    fatigue = Fatigue(max_messages=2, min_gap_days=3)
    rung = Rung(-1, "reminder")
    questionnaire = Sent(D(-2))
    verdict = fatigue_verdict([questionnaire], rung, D(-1), fatigue)
    assert (verdict.action, verdict.until) == ("withhold", D(1))  # deferred, not dropped
    assert "deferred" in verdict.reason
    assert fatigue_verdict([Sent(D(-30))], rung, D(-1), fatigue).action == "send"
    two = [Sent(D(-30)), Sent(D(-14), Rung(-14, "reminder")), Sent(D(-7), Rung(-7, "reminder"))]
    capped = fatigue_verdict(two, rung, D(-1), fatigue)
    assert (capped.action, capped.until) == ("withhold", None)  # dropped for good
    assert "cap of 2" in capped.reason
    assert fatigue_verdict(two, Rung(-7, "reminder"), D(-1), fatigue).reason == "already sent"
    later = fatigue_verdict(two, Rung(-10, "reminder"), D(-1), fatigue)
    assert later.reason == "a later rung was already sent"


def test_a_deferred_rung_goes_out_when_the_gap_allows_or_is_dropped_if_overtaken() -> None:
    ladder = parse_ladder("-3:reminder,-1:reminder,+1:overdue,+10:final")
    # Gap 3: D-1 waits until D0; D+1 then waits until D+3.
    facts = cycle(ladder=ladder, fatigue=Fatigue(6, 3))
    assert live(facts, range(-5, 12)) == [
        (-3, "D-3 reminder", "fp@gov.example"),
        (0, "D-1 reminder", "fp@gov.example"),
        (3, "D+1 overdue", "fp@gov.example"),
        (10, "D+10 final", "fp@gov.example"),
    ]
    # Gap 5: D-1 would wait until D+2, but D+1 falls due first: D-1 is dropped.
    facts = cycle(ladder=ladder, fatigue=Fatigue(6, 5))
    assert live(facts, range(-5, 12)) == [
        (-3, "D-3 reminder", "fp@gov.example"),
        (2, "D+1 overdue", "fp@gov.example"),
        (10, "D+10 final", "fp@gov.example"),
    ]


def test_the_cap_stops_the_ladder_for_good() -> None:
    facts = cycle(fatigue=Fatigue(2, 3))
    assert [label for _, label, _ in live(facts, range(-20, 40))] == [
        "D-14 reminder",
        "D-7 reminder",
        "D+10 escalation",  # the mission is another person, with its own count
    ]
    two = (Sent(SENT_ON), Sent(D(-14), Rung(-14, "reminder")), Sent(D(-7), Rung(-7, "reminder")))
    plan = plan_cycle(cycle(fatigue=Fatigue(2, 3), sent={1: two}), D(30))
    (held,) = plan.withheld
    assert held.rung == Rung(30, "final") and held.until is None and "cap of 2" in held.reason


# --- catch-up ----------------------------------------------------------------------------


def test_after_an_outage_only_the_latest_rung_goes_out_once() -> None:
    # The scheduler ran on D-14, then nothing until D+5: only the D+3 overdue notice goes.
    days = [-14, 5, 6, 7, 8, 9, 10, 11]
    assert live(cycle(), days) == [
        (-14, "D-14 reminder", "fp@gov.example"),
        (5, "D+3 overdue", "fp@gov.example"),
        (10, "D+10 escalation", "pm@mission.example"),
    ]
    plan = plan_cycle(cycle(sent={1: (Sent(D(-14), Rung(-14, "reminder")),)}), D(-5))
    (message,) = plan.messages
    assert message.rung == Rung(-7, "reminder")
    assert message.reason.endswith("; rung due 2026-06-23, sent late")


# --- who gets what -----------------------------------------------------------------------


def test_each_rung_has_its_audience() -> None:
    who = entity()
    secretariat = ["secretariat@oic.example"]
    reminder = audience(who, Rung(-7, "reminder"), secretariat)
    assert [p.email for p in reminder.to] == ["fp@gov.example"]
    assert reminder.cc == ("cc@gov.example",) and reminder.problems == ()
    escalation = audience(who, Rung(10, "escalation"), secretariat)
    assert [p.email for p in escalation.to] == ["pm@mission.example"]
    assert escalation.cc == ("secretariat@oic.example",)
    final = audience(who, Rung(30, "final"), secretariat)
    assert final.cc == ("cc@gov.example", "pm@mission.example")


def test_nobody_to_write_to_is_a_problem_not_a_silence() -> None:
    no_mission = entity(contacts=[Contact(1, "Focal", "fp@gov.example", "fr", "focal_point")])
    plan = plan_cycle(cycle(no_mission), D(10))
    (problem,) = plan.problems
    assert problem.kind == "no_permanent_mission" and "SEN" in problem.text
    assert problem.key == "cycle:1:SEN:+10.escalation:no_permanent_mission"
    assert plan.messages == []

    bad = entity(
        contacts=[
            Contact(1, "Focal", "fp@gov", "fr", "focal_point", valid=False),
            Contact(4, "Other", "other@gov.example", "en", "focal_point"),
        ]
    )
    plan = plan_cycle(cycle(bad), D(-7))
    assert [p.kind for p in plan.problems] == ["bad_address"]
    assert [(m.to.email, m.language) for m in plan.messages] == [("other@gov.example", "en")]
    nobody = entity(contacts=[Contact(1, "Focal", "fp@gov", "fr", "focal_point", valid=False)])
    kinds = [p.kind for p in plan_cycle(cycle(nobody), D(-7)).problems]
    assert kinds == ["bad_address", "no_focal_point"]


def test_only_those_who_owe_a_return_hear_from_us() -> None:
    returned = entity("EGY", standing=standing_of([sub(1, "accepted")]))
    checking = entity("MLI", standing=standing_of([sub(2, "received")]))
    refused = EntityStanding("needs_correction", sub(3, "refused", 3), ({"message": "x"},), None)
    to_fix = entity("TCD", standing=refused)
    owing = entity("SEN")
    people: dict[int, tuple[Sent, ...]] = {1: (Sent(SENT_ON),)}
    plan = plan_cycle(cycle(returned, checking, to_fix, owing, sent=people), D(-7))
    assert [(m.entity.code, m.kind) for m in plan.messages] == [
        ("TCD", "correction_needed"),
        ("SEN", "reminder"),
    ]
    assert plan.quiet == {"returned": 1, "return being checked": 1}
    assert "return of 2026-06-04 refused, needs correction" in plan.messages[0].reason
    assert plan.messages[1].key == "reminder:1:SEN:-7.reminder:1"
    assert plan_cycle(cycle(owing), D(-15)).messages == []  # before the first rung
