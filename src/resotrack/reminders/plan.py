"""Who is due what today: the reminder rules, in one pure function.

Give :func:`plan_cycle` everything known about a cycle (its ladder, each entity's returns and
contacts, what each person already received) and a day; it answers which messages to send,
which to hold back and why, and what the Secretariat must fix. It reads no database and no
clock, so the rules can be tested one day at a time, and a dry run shows exactly what a real
run will do.

The rules
---------
1. **Only those who owe a return hear from us.** An accepted return ends the ladder for its
   entity. A return still being checked pauses it (the verdict comes within minutes and
   brings its own email). A refused return turns a reminder into "your return needs
   correction", with what to fix.

2. **Catch-up: the latest rung due, once.** On any day the rung to send is the latest one
   whose day has come. If the scheduler missed D-7 and runs on D-5, the D-7 reminder goes out
   on D-5; if it missed D+3 and D+10 as well and runs on D+12, only D+10 goes out. A rung is
   never sent once a later one is due or has been sent: people get the current message, not
   a backlog.

3. **Fatigue, per person and cycle.** At most ``max_messages`` ladder messages (the
   questionnaire does not count: it is the request, not a reminder), and at least
   ``min_gap_days`` between two messages (here the questionnaire counts: a reminder the day
   after the questionnaire is noise). A rung too close to the previous message is *deferred*
   until the gap has passed, and *dropped* if a later rung falls due first (rule 2). A rung
   over the cap is *dropped*.

4. **Each rung has its audience.** Reminders, overdue and final notices go to the entity's
   focal points, copying its ``cc`` contacts (the final notice copies the permanent mission
   too); the escalation goes to the permanent mission, copying the Secretariat. One message
   per recipient, because each carries a personal upload link.

5. **Nothing fails silently.** A rung that finds nobody to write to (no permanent mission at
   escalation time, no focal point with a usable address) becomes a :class:`Problem` for the
   Secretariat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from resotrack.catalog import N_
from resotrack.reminders.ladder import Fatigue, Rung, RungKind, rung_label
from resotrack.validation import lifecycle

if TYPE_CHECKING:
    from resotrack.catalog import Words


class Reason(str):
    """Why a message goes out or is held back: the English text (what JSON and the logs
    carry, and what compares equal), with the message id and values that say it in another
    language (:func:`reason_label`)."""

    msgid: str
    values: Mapping[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Reason:
        shown = {k: _english(v) for k, v in values.items()}
        if "state" in shown:
            shown["state"] = str(shown["state"]).replace("_", " ")
        made = super().__new__(cls, msgid.format(**shown))
        made.msgid, made.values = msgid, values
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the message id
        return (_reason, (self.msgid, dict(self.values)))


def _english(value: Any) -> Any:
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return value.label if isinstance(value, Rung) else value


def _reason(msgid: str, values: dict[str, Any]) -> Reason:
    return Reason(msgid, **values)


def reason_label(w: Words, reason: str) -> str:
    """``reason`` as ``w``'s reader says it (a plain string as it is)."""
    if not isinstance(reason, Reason):
        return reason
    values: dict[str, Any] = {}
    for key, value in reason.values.items():
        if isinstance(value, date):
            value = w.date(value, "short")
        elif isinstance(value, Rung):
            value = rung_label(w, value)
        elif key == "state":
            value = lifecycle.SUBMISSION_STATES.name(w.language, value)
        elif isinstance(value, int):
            value = w.number(value)
        values[key] = value
    return w(reason.msgid, **values)


# --- what an entity owes -----------------------------------------------------------------

Standing = Literal["no_return", "needs_correction", "being_checked", "returned"]

RETURNED_STATES: Final = lifecycle.ANSWERS_STORED
#: Decided, and the entity must send again: refused or unreadable by validation, or sent
#: back by staff after review.
CORRECTION_STATES: Final = lifecycle.NEEDS_CORRECTION
#: States in which the Secretariat has taken a return (``correction_requested`` was accepted
#: before staff sent it back, so it replaces an older accepted return).
VALIDATED_STATES: Final = lifecycle.VALIDATED


@dataclass(frozen=True)
class SubmissionFact:
    """One return received for the entity in this cycle, in any state."""

    id: int
    state: str
    received_at: datetime
    file_name: str = ""


@dataclass(frozen=True)
class EntityStanding:
    """Where an entity stands, and the return that puts it there (if any)."""

    standing: Standing
    submission: SubmissionFact | None = None
    #: For ``needs_correction``: the report's problems as stored by validation, and the
    #: annotated copy of the workbook (only when it is in the blob store).
    problems: tuple[Mapping[str, Any], ...] = ()
    annotated_sha256: str | None = None


def standing_of(submissions: Sequence[SubmissionFact]) -> EntityStanding:
    """Read an entity's returns, oldest first, into what it owes now.

    The newest return the Secretariat has taken decides first: accepted means nothing is
    owed, even if a later file was refused (the accepted answers stand). Otherwise the
    newest file decides: still being checked, or refused (needs correction); no file at
    all means no return.
    """
    ordered = sorted(submissions, key=lambda s: (s.received_at, s.id))
    validated = [s for s in ordered if s.state in VALIDATED_STATES]
    if validated and validated[-1].state in RETURNED_STATES:
        return EntityStanding("returned", validated[-1])
    if ordered and ordered[-1].state not in RETURNED_STATES | CORRECTION_STATES:
        return EntityStanding("being_checked", ordered[-1])
    decided = [s for s in ordered if s.state in CORRECTION_STATES]
    if decided:
        return EntityStanding("needs_correction", decided[-1])
    return EntityStanding("no_return")


# --- the facts a plan is made from -------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """An active person of an entity (``role``: focal_point, permanent_mission or cc)."""

    id: int
    name: str
    email: str
    language: str
    role: str
    valid: bool = True  # the address is well formed


@dataclass(frozen=True)
class EntityFacts:
    """One entity asked to report in the cycle."""

    code: str
    names: Mapping[str, str]  # by language: ar, en, fr
    language: str
    paragraphs: int
    contacts: tuple[Contact, ...]
    standing: EntityStanding
    kind: str = "member_state"  # member_state | institution | secretariat: how to address it
    #: The paragraphs still unanswered, by resolution, once a partial return was taken (an
    #: entity whose returns answered everything owes nothing; one with no return, all).
    owed: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def owes_part(self) -> bool:
        """A return was taken, but it (or they) left paragraphs unanswered."""
        return self.standing.standing == "returned" and any(self.owed.values())

    @property
    def owed_count(self) -> int:
        """How many paragraphs the entity still owes."""
        if self.standing.standing == "returned":
            return sum(len(numbers) for numbers in self.owed.values())
        return self.paragraphs

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.code


@dataclass(frozen=True)
class Sent:
    """A message this cycle already queued for one person: a rung, or the questionnaire."""

    day: date
    rung: Rung | None = None  # None: the questionnaire itself


@dataclass(frozen=True)
class CycleFacts:
    """Everything :func:`plan_cycle` needs, read in a few queries by :mod:`.facts`."""

    id: int
    title: str
    deadline: date
    ladder: tuple[Rung, ...]
    fatigue: Fatigue
    entities: tuple[EntityFacts, ...]
    sent: Mapping[int, tuple[Sent, ...]]  # by contact id
    secretariat: tuple[str, ...] = ()


# --- what a plan says --------------------------------------------------------------------

MessageKind = Literal["reminder", "overdue", "escalation", "final_notice", "correction_needed"]
MESSAGE_KINDS: Final[tuple[MessageKind, ...]] = (
    "reminder",
    "overdue",
    "escalation",
    "final_notice",
    "correction_needed",
)
ProblemKind = Literal["no_permanent_mission", "no_focal_point", "bad_address"]


@dataclass(frozen=True)
class Planned:
    """One message to queue: a rung of the ladder for one recipient."""

    cycle_id: int
    entity: EntityFacts
    rung: Rung
    kind: MessageKind
    to: Contact
    cc: tuple[str, ...]
    reason: str

    @property
    def key(self) -> str:
        """The outbox idempotency key: (cycle, entity, rung, recipient)."""
        return f"reminder:{self.cycle_id}:{self.entity.code}:{self.rung.key}:{self.to.id}"

    @property
    def language(self) -> str:
        return self.to.language


@dataclass(frozen=True)
class Withheld:
    """A message fatigue keeps back: until a day (deferred), or for good (``until`` None)."""

    entity_code: str
    rung: Rung
    to: Contact
    reason: str
    until: date | None


@dataclass(frozen=True)
class Problem:
    """Something only the Secretariat can fix; ``key`` lets it be reported once."""

    cycle_id: int
    entity_code: str
    rung: Rung
    kind: ProblemKind
    text: str
    contact_id: int | None = None

    @property
    def key(self) -> str:
        tail = f":{self.contact_id}" if self.contact_id is not None else ""
        return f"cycle:{self.cycle_id}:{self.entity_code}:{self.rung.key}:{self.kind}{tail}"


@dataclass
class CyclePlan:
    """What to do today for one cycle; ``quiet`` counts entities left alone, by reason."""

    cycle_id: int
    title: str
    today: date
    day: int  # today, counted from the deadline
    rung: Rung | None  # the latest rung due, if any
    messages: list[Planned] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    quiet: Counter[str] = field(default_factory=Counter)


# --- the rules ---------------------------------------------------------------------------


def due_rung(ladder: Sequence[Rung], day: int) -> Rung | None:
    """The latest rung whose day has come (rule 2); earlier ones are superseded."""
    due = [rung for rung in ladder if rung.offset <= day]
    return max(due) if due else None


def message_kind(rung: RungKind, standing: Standing) -> MessageKind:
    """A refused return turns a plain reminder or overdue notice into a correction request."""
    if standing == "needs_correction" and rung in ("reminder", "overdue"):
        return "correction_needed"
    return "final_notice" if rung == "final" else rung


@dataclass(frozen=True)
class Verdict:
    """What fatigue (rule 3) says about sending ``rung`` to one person today."""

    action: Literal["send", "withhold", "skip"]
    reason: str = ""
    until: date | None = None


def fatigue_verdict(history: Sequence[Sent], rung: Rung, today: date, fatigue: Fatigue) -> Verdict:
    """Send, withhold (deferred or dropped) or skip (already done) ``rung`` for one person."""
    rungs = [sent.rung for sent in history if sent.rung is not None]
    if any(earlier == rung for earlier in rungs):
        return Verdict("skip", Reason(N_("already sent")))
    if any(earlier.offset >= rung.offset for earlier in rungs):
        return Verdict("skip", Reason(N_("a later rung was already sent")))
    if len(rungs) >= fatigue.max_messages:
        return Verdict(
            "withhold",
            Reason(N_("dropped: cap of {cap} messages reached"), cap=fatigue.max_messages),
        )
    last = max((sent.day for sent in history), default=None)
    if last is not None:
        ready = last + timedelta(days=fatigue.min_gap_days)
        if today < ready:
            return Verdict(
                "withhold",
                Reason(
                    N_("deferred: last message on {last}, minimum gap {gap} days"),
                    last=last,
                    gap=fatigue.min_gap_days,
                ),
                ready,
            )
    return Verdict("send")


@dataclass(frozen=True)
class Audience:
    """Who one rung writes to for one entity, and what stops it from reaching anyone."""

    to: tuple[Contact, ...]
    cc: tuple[str, ...]
    problems: tuple[tuple[ProblemKind, str, int | None], ...]


def audience(entity: EntityFacts, rung: Rung, secretariat: Sequence[str]) -> Audience:
    """Recipients and copies of ``rung`` for ``entity`` (rule 4), bad addresses set aside."""
    by_role: dict[str, list[Contact]] = {}
    for person in entity.contacts:
        by_role.setdefault(person.role, []).append(person)
    focal = by_role.get("focal_point", [])
    mission = by_role.get("permanent_mission", [])
    copies = by_role.get("cc", [])
    to, cc = focal, copies
    extra: list[str] = []
    missing: ProblemKind = "no_focal_point"
    if rung.kind == "escalation":
        to, cc, extra, missing = mission, [], list(secretariat), "no_permanent_mission"
    elif rung.kind == "final":
        cc = copies + mission

    who = f"{entity.name('en')} ({entity.code})"
    problems: list[tuple[ProblemKind, str, int | None]] = [
        (
            "bad_address",
            Reason(
                N_("{who}: {name} has a bad address {email}; the {rung} message did not go to it"),
                who=who,
                name=p.name,
                email=repr(p.email),
                rung=rung,
            ),
            p.id,
        )
        for p in (*to, *cc)
        if not p.valid
    ]
    recipients = tuple(p for p in to if p.valid)
    if not recipients:
        if missing == "no_permanent_mission":
            text = Reason(
                N_(
                    "{who} has no permanent mission contact with a valid address, so the {rung} "
                    "could not be sent; add one (role 'permanent mission') or escalate by hand"
                ),
                who=who,
                rung=rung,
            )
        else:
            text = Reason(
                N_(
                    "{who} has no active focal point with a valid address, so its {rung} message "
                    "was not sent"
                ),
                who=who,
                rung=rung,
            )
        problems.append((missing, text, None))
    taken = {p.email.lower() for p in recipients}
    copied: list[str] = []
    for address in [p.email for p in cc if p.valid] + extra:
        if address.lower() not in taken:
            taken.add(address.lower())
            copied.append(address)
    return Audience(recipients, tuple(copied), tuple(problems))


def _why(entity: EntityFacts, rung_day: date, today: date) -> Reason:
    """The reason a staff member reads in the dry run."""
    standing = entity.standing
    late = rung_day != today
    if standing.standing == "needs_correction" and standing.submission is not None:
        sub = standing.submission
        said = {"received": sub.received_at.date(), "state": sub.state}
        if late:
            return Reason(
                N_("return of {received} {state}, needs correction; rung due {due}, sent late"),
                due=rung_day,
                **said,
            )
        return Reason(N_("return of {received} {state}, needs correction"), **said)
    if entity.owes_part:
        owed = {"owed": entity.owed_count, "paragraphs": entity.paragraphs}
        if late:
            return Reason(
                N_(
                    "partial return: {owed} of {paragraphs} paragraphs still owed; "
                    "rung due {due}, sent late"
                ),
                due=rung_day,
                **owed,
            )
        return Reason(N_("partial return: {owed} of {paragraphs} paragraphs still owed"), **owed)
    if late:
        return Reason(
            N_("no return yet ({paragraphs} paragraphs); rung due {due}, sent late"),
            paragraphs=entity.paragraphs,
            due=rung_day,
        )
    return Reason(N_("no return yet ({paragraphs} paragraphs)"), paragraphs=entity.paragraphs)


def plan_cycle(cycle: CycleFacts, today: date) -> CyclePlan:
    """Apply the rules to every entity of ``cycle`` on ``today``."""
    day = (today - cycle.deadline).days
    rung = due_rung(cycle.ladder, day)
    plan = CyclePlan(cycle.id, cycle.title, today, day, rung)
    if rung is None:
        return plan  # before the first rung: nothing is due yet
    rung_day = cycle.deadline + timedelta(days=rung.offset)

    for entity in cycle.entities:
        standing = entity.standing.standing
        if entity.owes_part:
            standing = "no_return"  # rule 1, per paragraph: asked for what is still owed
        elif standing == "returned":
            plan.quiet[Reason(N_("returned"))] += 1
            continue
        if standing == "being_checked":
            plan.quiet[Reason(N_("return being checked"))] += 1
            continue

        reach = audience(entity, rung, cycle.secretariat)
        plan.problems.extend(
            Problem(cycle.id, entity.code, rung, kind, text, contact_id)
            for kind, text, contact_id in reach.problems
        )
        kind = message_kind(rung.kind, standing)
        for person in reach.to:
            verdict = fatigue_verdict(cycle.sent.get(person.id, ()), rung, today, cycle.fatigue)
            if verdict.action == "send":
                why = _why(entity, rung_day, today)
                plan.messages.append(Planned(cycle.id, entity, rung, kind, person, reach.cc, why))
            elif verdict.action == "withhold":
                plan.withheld.append(
                    Withheld(entity.code, rung, person, verdict.reason, verdict.until)
                )
            else:
                plan.quiet[verdict.reason] += 1
    return plan
