"""The reminder ladder of a cycle: which message goes out how many days from the deadline.

A ladder is stored on ``ReportingCycle.ladder`` as ``[{"offset": -14, "kind": "reminder"},
...]``; offsets count days from the deadline (negative before it). Staff write one in a
compact form, ``-14:reminder, -7:reminder, D+3:overdue, +10:escalation, +30:final``, and
every rule below is checked before it is stored, so the daily run never meets a ladder it
cannot follow.

Rules, each with the reason a person would give:

- ``reminder`` rungs sit on or before the deadline (after it, the message is ``overdue``);
  ``overdue``, ``escalation`` and ``final`` sit after it.
- One rung per day: two messages on the same day would only add to the fatigue.
- At most one ``final``, and nothing after it: the final notice says the entity will be
  listed as non-reporting, so a later message would contradict it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from sqlalchemy.orm import Session

from resotrack import audit
from resotrack.catalog import NP_, Said, ValueNames
from resotrack.questionnaires.cycles import DEFAULT_LADDER
from resotrack.questionnaires.models import ReportingCycle

if TYPE_CHECKING:
    from resotrack.catalog import Words

RungKind = Literal["reminder", "overdue", "escalation", "final"]
KINDS: Final[tuple[RungKind, ...]] = get_args(RungKind)
ALIASES: Final[Mapping[str, RungKind]] = {"final_notice": "final", "escalate": "escalation"}

MAX_OFFSET: Final = 180
MAX_RUNGS: Final = 12
MAX_MESSAGES_LIMIT: Final = 20
MIN_GAP_LIMIT: Final = 30

#: What each kind of rung is called (``D-7 reminder``).
RUNG_KINDS: Final = ValueNames(
    "rung kind",
    {
        "reminder": NP_("rung kind", "reminder"),
        "overdue": NP_("rung kind", "overdue"),
        "escalation": NP_("rung kind", "escalation"),
        "final": NP_("rung kind", "final"),
    },
)
#: Who each kind of rung writes to (the run turns this into addresses).
AUDIENCES: Final = ValueNames(
    "audience",
    {
        "reminder": NP_("audience", "focal points (cc: the entity's copies)"),
        "overdue": NP_("audience", "focal points (cc: the entity's copies)"),
        "escalation": NP_("audience", "permanent mission (cc: the Secretariat)"),
        "final": NP_("audience", "focal points (cc: the entity's copies and permanent mission)"),
    },
)

_RUNG = re.compile(r"^[Dd]?\s*([+-]?\d{1,4})\s*[:=]\s*([A-Za-z_]+)$")
_SEPARATORS = re.compile(r"[,;\s]+")


def rung_label(w: Words, rung: Rung) -> str:
    """:attr:`Rung.label` as ``w``'s reader says it: ``D-7 reminder``, ``J-7 rappel``."""
    return w.said(rung_said(rung))


def rung_said(rung: Rung) -> Said:
    """:attr:`Rung.label` (its English text) to be said in any language (:meth:`Words.said`)."""
    day = Said("D0") if rung.offset == 0 else Said("D{offset}", offset=f"{rung.offset:+d}")
    return Said("{day} {kind}", day=day, kind=RUNG_KINDS.said(rung.kind))


class LadderError(ValueError):
    """A ladder or fatigue setting that cannot be used; the message says what to change."""


@dataclass(frozen=True, order=True)
class Rung:
    """One step of the ladder. Ordered by offset, which is unique within a ladder."""

    offset: int
    kind: RungKind

    @property
    def key(self) -> str:
        """Stable name of the rung, part of every outbox key: ``-7.reminder``, ``+3.overdue``."""
        return f"{self.offset:+d}.{self.kind}"

    @property
    def label(self) -> str:
        """How staff read it: ``D-7 reminder``, ``D+3 overdue``, ``D0 reminder``."""
        day = "D0" if self.offset == 0 else f"D{self.offset:+d}"
        return f"{day} {self.kind}"

    def as_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "kind": self.kind}


@dataclass(frozen=True)
class Fatigue:
    """How much a person may be written to in one cycle, however the ladder is set."""

    max_messages: int
    min_gap_days: int


def parse_kind(value: str) -> RungKind:
    """A rung kind, with its aliases (``final_notice`` → ``final``)."""
    word = value.strip().lower()
    word = ALIASES.get(word, word)
    for kind in KINDS:
        if word == kind:
            return kind
    raise LadderError(f"unknown rung kind {value!r}; use one of {', '.join(KINDS)}")


def parse_rung(text: str) -> Rung:
    """``-14:reminder``, ``D+3:overdue`` or ``30=final`` → :class:`Rung`."""
    match = _RUNG.match(text.strip())
    if match is None:
        raise LadderError(
            f"rung {text!r} is not OFFSET:KIND (for example -14:reminder or D+3:overdue)"
        )
    return Rung(int(match.group(1)), parse_kind(match.group(2)))


def parse_ladder(text: str | Iterable[str]) -> tuple[Rung, ...]:
    """A compact ladder (one string, or one string per rung) → validated rungs.

    An empty string is refused: a cycle without reminders is asked for explicitly
    (:func:`validate` accepts ``()``).
    """
    raw = text if isinstance(text, str) else ",".join(text)
    tidy = re.sub(r"\s*([:=])\s*", r"\1", raw)  # "D-14 : reminder" is one rung
    pieces = [piece for piece in _SEPARATORS.split(tidy) if piece]
    if not pieces:
        raise LadderError("the ladder is empty; give rungs like -7:reminder,+3:overdue")
    return validate(parse_rung(piece) for piece in pieces)


def validate(rungs: Iterable[Rung]) -> tuple[Rung, ...]:
    """The rungs sorted by offset, or :class:`LadderError` naming the first broken rule."""
    ladder = tuple(sorted(rungs))
    if len(ladder) > MAX_RUNGS:
        raise LadderError(f"{len(ladder)} rungs is too many; at most {MAX_RUNGS}")
    seen: dict[int, Rung] = {}
    for rung in ladder:
        if abs(rung.offset) > MAX_OFFSET:
            raise LadderError(
                f"{rung.label}: an offset must lie within {MAX_OFFSET} days of the deadline"
            )
        if rung.kind == "reminder" and rung.offset > 0:
            raise LadderError(
                f"{rung.label}: a reminder comes on or before the deadline; "
                f"after it, use {rung.offset:+d}:overdue"
            )
        if rung.kind != "reminder" and rung.offset <= 0:
            raise LadderError(f"{rung.label}: a {rung.kind} rung comes after the deadline (D+1 on)")
        if rung.offset in seen:
            raise LadderError(
                f"{seen[rung.offset].label} and {rung.label} fall on the same day; "
                "keep one rung per day"
            )
        seen[rung.offset] = rung
    finals = [r for r in ladder if r.kind == "final"]
    if len(finals) > 1:
        raise LadderError("there can be only one final rung")
    if finals and ladder[-1] != finals[0]:
        raise LadderError(
            f"{ladder[-1].label} comes after the final notice ({finals[0].label}); "
            "the final notice must be the last rung"
        )
    return ladder


def validate_fatigue(max_messages: int, min_gap_days: int) -> Fatigue:
    if not 1 <= max_messages <= MAX_MESSAGES_LIMIT:
        raise LadderError(
            f"the message cap must be between 1 and {MAX_MESSAGES_LIMIT}, not {max_messages}"
        )
    if not 0 <= min_gap_days <= MIN_GAP_LIMIT:
        raise LadderError(
            f"the minimum gap must be between 0 and {MIN_GAP_LIMIT} days, not {min_gap_days}"
        )
    return Fatigue(max_messages, min_gap_days)


def from_stored(stored: Sequence[Mapping[str, Any]] | None) -> tuple[Rung, ...]:
    """The ladder as stored on a cycle (JSON), checked like one typed by staff."""
    rungs = []
    for item in stored or ():
        try:
            offset, kind = item["offset"], item["kind"]
        except (KeyError, TypeError) as exc:
            raise LadderError(f"stored rung {item!r} lacks an offset or a kind") from exc
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise LadderError(f"stored rung {item!r}: the offset is not a whole number of days")
        rungs.append(Rung(offset, parse_kind(str(kind))))
    return validate(rungs)


def to_stored(ladder: Iterable[Rung]) -> list[dict[str, Any]]:
    return [rung.as_dict() for rung in sorted(ladder)]


def default_ladder() -> tuple[Rung, ...]:
    return from_stored(DEFAULT_LADDER)


def describe(ladder: Sequence[Rung]) -> str:
    """``D-14 reminder, D-7 reminder, D+3 overdue`` (or ``no reminders``)."""
    return ", ".join(r.label for r in ladder) or "no reminders"


def compact(ladder: Sequence[Rung]) -> str:
    """The form :func:`parse_ladder` reads back: ``-14:reminder,+3:overdue``."""
    return ",".join(f"{r.offset:+d}:{r.kind}" for r in ladder)


def warnings(ladder: Sequence[Rung], fatigue: Fatigue) -> list[str]:
    """What the fatigue settings will do to this ladder, so staff are not surprised later.

    Not errors: a cap below the ladder's length is a legitimate choice, but it should be a
    conscious one.
    """
    found: list[str] = []
    to_focal_points = [r for r in ladder if r.kind != "escalation"]
    if len(to_focal_points) > fatigue.max_messages:
        dropped = to_focal_points[fatigue.max_messages :]
        found.append(
            Said(
                "the cap of {cap} messages per person stops the ladder early: {rungs} will not "
                "reach a focal point who got the earlier rungs",
                cap=fatigue.max_messages,
                rungs=Said.listed([rung_said(r) for r in dropped]),
            )
        )
    for before, after in pairwise(to_focal_points):
        gap = after.offset - before.offset
        if gap < fatigue.min_gap_days:
            ready = before.offset + fatigue.min_gap_days
            found.append(
                Said.n(
                    "{after} comes {n} day after {before}, under the minimum gap of {gap}: it "
                    "waits until {ready} and is dropped if a later rung is due by then",
                    "{after} comes {n} days after {before}, under the minimum gap of {gap}: it "
                    "waits until {ready} and is dropped if a later rung is due by then",
                    gap,
                    after=rung_said(after),
                    before=rung_said(before),
                    gap=fatigue.min_gap_days,
                    ready=Said("D{offset}", offset=f"{ready:+d}"),
                )
            )
    return found


# --- a cycle's ladder in the database ----------------------------------------------------


@dataclass(frozen=True)
class CycleLadder:
    """A cycle's ladder and fatigue settings, with what they imply (for ``ladder show``)."""

    cycle_id: int
    title: str
    deadline: date
    state: str
    ladder: tuple[Rung, ...]
    fatigue: Fatigue

    @property
    def warnings(self) -> list[str]:
        return warnings(self.ladder, self.fatigue)

    def day_of(self, rung: Rung) -> date:
        return self.deadline + timedelta(days=rung.offset)


def _cycle(session: Session, cycle_id: int) -> ReportingCycle:
    cycle = session.get(ReportingCycle, cycle_id)
    if cycle is None:
        raise LadderError(f"there is no cycle {cycle_id}; `resotrack cycles list` shows them")
    return cycle


def ladder_of(session: Session, cycle_id: int) -> CycleLadder:
    cycle = _cycle(session, cycle_id)
    return CycleLadder(
        cycle.id,
        cycle.title,
        cycle.deadline,
        cycle.state,
        from_stored(cycle.ladder),
        validate_fatigue(cycle.fatigue_max_messages, cycle.fatigue_min_gap_days),
    )


def set_ladder(
    session: Session,
    cycle_id: int,
    *,
    rungs: Sequence[Rung] | None = None,
    max_messages: int | None = None,
    min_gap_days: int | None = None,
    actor: str = "staff",
) -> CycleLadder:
    """Change a cycle's ladder and/or fatigue settings; the next daily run follows them.

    Rungs already sent stay sent; a new rung whose day has passed is sent by the next run
    if it is the latest one due (catch-up), within the fatigue limits.
    """
    cycle = _cycle(session, cycle_id)
    if cycle.state == "closed":
        raise LadderError(f"cycle {cycle_id} is closed; its ladder can no longer change")
    if rungs is None and max_messages is None and min_gap_days is None:
        raise LadderError("nothing to change: give rungs, --max-messages or --min-gap-days")
    ladder = validate(rungs) if rungs is not None else from_stored(cycle.ladder)
    fatigue = validate_fatigue(
        cycle.fatigue_max_messages if max_messages is None else max_messages,
        cycle.fatigue_min_gap_days if min_gap_days is None else min_gap_days,
    )
    before = {
        "ladder": list(cycle.ladder or []),
        "max_messages": cycle.fatigue_max_messages,
        "min_gap_days": cycle.fatigue_min_gap_days,
    }
    cycle.ladder = to_stored(ladder)
    cycle.fatigue_max_messages = fatigue.max_messages
    cycle.fatigue_min_gap_days = fatigue.min_gap_days
    audit.record(
        session,
        actor,
        "cycle.ladder_changed",
        f"cycle {cycle.id}",
        before=before,
        after={
            "ladder": cycle.ladder,
            "max_messages": fatigue.max_messages,
            "min_gap_days": fatigue.min_gap_days,
        },
    )
    return ladder_of(session, cycle_id)
