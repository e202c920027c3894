"""Decide a validated submission: answers, report, feedback email, in one transaction.

* accepted / accepted with warnings: the rows become the entity's current answers for the
  cycle, paragraph by paragraph; earlier answers stay as history (``current`` false). The
  newest accepted *upload* wins, by the time it was received, not by the time it happened
  to be validated: a late-validated older file is kept as history only.
* refused / unreadable: nothing from the file reaches the answers.

Whatever the outcome, the full report is written on ``Submission.report`` and a feedback
email is queued through the outbox under ``feedback:{submission_id}`` (sent at most once),
to the focal point who submitted, in their language. Everything commits together, guarded by
the claim taken when validation started, so a re-run after a crash changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Integer, Table, and_, any_, bindparam, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from resotrack import audit, catalog, clock
from resotrack.questionnaires.models import ReportingCycle
from resotrack.questionnaires.spec import ANSWER_FIELDS
from resotrack.registry import grammar
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.tokens.models import UploadToken
from resotrack.validation.lifecycle import ANSWERS_STORED, SubmissionState
from resotrack.validation.models import Answer, Submission
from resotrack.validation.report import Problem, outcome_of, sort_key

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

ACTOR: Final = "validation"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_STORED_PROBLEMS: Final = 500  # a garbage file must not make a megabyte report
MAX_EMAILED_PROBLEMS: Final = 30  # the rest are in the attached workbook


ANSWER_TABLE: Final = cast(Table, Answer.__table__)
SUBMISSION_TABLE: Final = cast(Table, Submission.__table__)


class ClaimLost(RuntimeError):
    """Another run took this submission over (ours was presumed dead): we change nothing."""


@dataclass(frozen=True)
class Recipient:
    """Who is told: the submitting focal point, or the address an email came from."""

    email: str
    language: str
    name: str | None = None
    focal_point_id: int | None = None


def recipient_for(session: Session, submission: Submission) -> Recipient | None:
    """The token's focal point, else (email) the sender; drop folder and CLI tell nobody."""
    if submission.token_id is not None:
        token = session.get(UploadToken, submission.token_id)
        person = session.get(FocalPoint, token.focal_point_id) if token else None
        if person is not None:
            return Recipient(person.email, person.language, person.name, person.id)
    if submission.channel == "email" and submission.sender:
        from resotrack.validation.identify import focal_points

        entity = submission.entity_code or ""
        people = focal_points(session, submission.sender, entity) if entity else []
        if people:
            p = people[0]
            return Recipient(p.email, p.language, p.name, p.id)
        known = session.get(ReportingEntity, entity) if entity else None
        return Recipient(submission.sender, known.language if known else "en")
    return None


#: ``session.info`` key: the SQLite transaction that has taken the database's write lock.
_WRITE_LOCKED: Final = "resotrack.sqlite_write_locked"


def lock_submission(session: Session, submission_id: int) -> Submission | None:
    """The row, locked for this transaction (see :func:`lock_submissions`)."""
    return lock_submissions(session, [submission_id]).get(submission_id)


def lock_submissions(session: Session, ids: Sequence[int]) -> dict[int, Submission]:
    """The rows, by id, locked for this transaction in one statement (PostgreSQL: FOR UPDATE,
    in id order; SQLite: a write first, which takes the database's write lock before anything
    is read)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(Submission).where(Submission.id.in_(wanted)).order_by(Submission.id)
    if session.get_bind().dialect.name == "sqlite":
        transaction = session.get_transaction()
        if transaction is None or session.info.get(_WRITE_LOCKED) is not transaction:
            session.execute(
                update(Submission)
                .where(Submission.id == wanted[0])
                .values(state=Submission.state)
                .execution_options(synchronize_session=False)
            )
            session.info[_WRITE_LOCKED] = session.get_transaction()
        # else the transaction holds the write lock already (decisions recorded together)
    else:
        query = query.with_for_update()
    rows = session.scalars(query.execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def _aware(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def store_answers(
    session: Session, submission: Submission, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert the return's rows; returns how many became current (see :func:`store_returns`)."""
    return store_returns(session, [(submission, rows)])[0]


_Key = tuple[int, str, str, int]  # cycle, entity, resolution, paragraph
_Order = tuple[dt.datetime, int]  # an upload's place: received, then id


def store_returns(
    session: Session, returns: Sequence[tuple[Submission, Sequence[Mapping[str, Any]]]]
) -> list[int]:
    """Insert the rows of several returns; how many of each became current.

    The outcome is the one of storing them one after the other in this order, in a few
    statements for all of them: per paragraph, the current answer from an older upload is
    demoted to history; one from a newer upload stays current and the row joins the history.
    A row beaten by a later return of the same group is written as history straight away.
    """
    if not returns:
        return []
    # Core statements on the session's connection: the ORM's layers cost more than the
    # queries here (profiled), and each source submission's order is worked out once.
    connection = session.connection()
    entities = sorted({_entity(s) for s, _ in returns})
    _lock_entities(connection, entities)
    held: dict[_Key, list[tuple[_Order, int]]] = {}
    orders: dict[int | None, _Order] = {}  # per source submission, worked out once
    for answer_id, cycle, entity, resolution, number, source, received_at in connection.execute(
        _current_answers(entities)
    ):
        if source not in orders:
            orders[source] = (_aware(received_at), source or 0)
        held.setdefault((cycle, entity, resolution, number), []).append((orders[source], answer_id))
    best = {key: max(order for order, _ in entries) for key, entries in held.items()}
    newest: dict[_Key, _Order] = {}  # per paragraph, the newest return of this group
    winner: dict[_Key, int] = {}  # and which of them ends up current
    keys: list[list[_Key]] = []
    changed: list[int] = []
    for index, (submission, rows) in enumerate(returns):
        ours = (_aware(submission.received_at), submission.id)
        cycle, entity = _entity(submission)
        keys.append([(cycle, entity, row["resolution"], row["paragraph"]) for row in rows])
        count = 0
        for key in keys[-1]:
            newest[key] = max(newest.get(key, ours), ours)
            if key not in best or best[key] <= ours:
                best[key], winner[key] = ours, index
                count += 1
        changed.append(count)
    demote = [
        answer_id
        for key, entries in held.items()
        if key in newest
        for order, answer_id in entries
        if order <= newest[key]
    ]
    _demote(connection, demote)
    accepted_at = clock.now()
    _insert_answers(
        session,
        [
            (
                (*_entity(submission), submission.id, accepted_at),
                [
                    (
                        row["resolution"],
                        row["paragraph"],
                        winner.get(key) == index,
                        *[row.get(name) for name in ANSWER_FIELDS],
                    )
                    for row, key in zip(rows, keys[index], strict=True)
                ],
            )
            for index, (submission, rows) in enumerate(returns)
            if rows
        ],
    )
    return changed


def _entity(submission: Submission) -> tuple[int, str]:
    """Whose answers a return holds: (cycle, entity), set on every return that is stored."""
    assert submission.cycle_id is not None and submission.entity_code is not None
    return submission.cycle_id, submission.entity_code


#: Bound parameters per ``IN`` list: well under SQLite's oldest limit (999).
_IDS_PER_STATEMENT: Final = 900
#: PostgreSQL: every id in one array parameter (an ``IN`` list of thousands of parameters
#: cost more client CPU to render and adapt than the update itself).
_DEMOTE_ARRAY: Final = (
    update(ANSWER_TABLE)
    .where(ANSWER_TABLE.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer))))
    .values(current=False)
)


def _demote(connection: Connection, ids: Sequence[int]) -> None:
    """These answers are history now."""
    if not ids:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(_DEMOTE_ARRAY, {"ids": list(ids)})
        return
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        connection.execute(
            update(ANSWER_TABLE)
            .where(ANSWER_TABLE.c.id.in_(ids[start : start + _IDS_PER_STATEMENT]))
            .values(current=False)
        )


def _lock_entities(connection: Connection, entities: Sequence[tuple[int, str]]) -> None:
    """PostgreSQL: hold each (cycle, entity)'s answers for this transaction, in one order.

    Two workers deciding returns of one entity at once would each read the same current
    answers, demote them and insert their own as current: two current rows per paragraph.
    A transaction-scoped advisory lock per (cycle, entity), taken in sorted order (no
    deadlock), makes the second wait for the first and read what it wrote. SQLite needs
    none: its decisions take the database's write lock before reading anything.
    """
    if connection.dialect.name != "postgresql" or not entities:
        return
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(cycle, hashtext(entity)) "
            "FROM unnest(CAST(:cycles AS integer[]), CAST(:entities AS text[])) "
            "AS wanted(cycle, entity)"
        ),
        {"cycles": [c for c, _ in entities], "entities": [e for _, e in entities]},
    )


def _current_answers(entities: Sequence[tuple[int, str]]) -> Any:
    """The current answers of each (cycle, entity), with when their upload was received."""
    return (
        select(
            ANSWER_TABLE.c.id,
            ANSWER_TABLE.c.cycle_id,
            ANSWER_TABLE.c.entity_code,
            ANSWER_TABLE.c.resolution_symbol,
            ANSWER_TABLE.c.paragraph_number,
            ANSWER_TABLE.c.submission_id,
            SUBMISSION_TABLE.c.received_at,
        )
        .select_from(
            ANSWER_TABLE.outerjoin(
                SUBMISSION_TABLE, ANSWER_TABLE.c.submission_id == SUBMISSION_TABLE.c.id
            )
        )
        .where(
            or_(
                *(
                    and_(
                        ANSWER_TABLE.c.cycle_id == cycle,
                        ANSWER_TABLE.c.entity_code == entity,
                        # "= 1", not "IS 1": SQLite uses the index on (cycle, entity, current)
                        # only then.
                        ANSWER_TABLE.c.current == True,  # noqa: E712
                    )
                    for cycle, entity in entities
                )
            )
        )
    )


#: An answer row as stored: the columns a return's rows share, then each row's own.
_SHARED_KEYS: Final = ("cycle_id", "entity_code", "submission_id", "accepted_at")
_ROW_KEYS: Final = ("resolution_symbol", "paragraph_number", "current", *ANSWER_FIELDS)
_INSERT_KEYS: Final = (*_SHARED_KEYS, *_ROW_KEYS)
_Processor = Callable[[Any], Any] | None


@lru_cache(maxsize=8)
def _answer_insert(dialect: Dialect) -> tuple[str, tuple[int, ...], tuple[_Processor, ...]]:
    """The INSERT for answers in ``dialect``'s own SQL and parameter style, compiled once:
    for each of its parameters, the place of its value in a row of ``_INSERT_KEYS`` order,
    and its column's bind processor (SQLite: booleans as 0/1, dates as text)."""
    compiled = insert(ANSWER_TABLE).compile(dialect=dialect, column_keys=list(_INSERT_KEYS))
    order = tuple(compiled.positiontup or ()) if dialect.positional else _INSERT_KEYS
    processors = tuple(
        ANSWER_TABLE.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
    )
    return str(compiled), tuple(_INSERT_KEYS.index(key) for key in order), processors


#: Per return: the values of ``_SHARED_KEYS``, then its rows' values of ``_ROW_KEYS``.
_Rows = Sequence[tuple[tuple[Any, ...], Sequence[tuple[Any, ...]]]]


def _insert_answers(session: Session, returns: _Rows) -> None:
    """One ``executemany`` straight to the driver for every row of ``returns``.

    ``session.execute(insert(...), rows)`` builds and processes a parameter set per row
    through SQLAlchemy's compiled-statement machinery, which cost more than the database's
    own work for a 137-row return (profiled: a quarter of the decision's time). The SQL and
    the type conversions are SQLAlchemy's own, compiled once per dialect.
    """
    if not returns:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        _copy_answers(connection, returns)
        return
    sql, places, processors = _answer_insert(dialect)
    process = dict(zip(places, processors, strict=True))  # by place in _INSERT_KEYS order
    split = len(_SHARED_KEYS)
    varying = [(i - split, process[i]) for i in range(split, len(_INSERT_KEYS))]
    rows: list[Any] = []
    for shared, values in returns:
        head = tuple(_convert(v, process[i]) for i, v in enumerate(shared))  # once a return
        for value in values:
            full = (*head, *(_convert(value[j], convert) for j, convert in varying))
            if dialect.positional:
                rows.append(tuple(full[place] for place in places))
            else:
                rows.append(dict(zip(_INSERT_KEYS, full, strict=True)))
    connection.exec_driver_sql(sql, rows)


def _copy_answers(connection: Connection, returns: _Rows) -> None:
    """PostgreSQL: one ``COPY ... FROM STDIN`` in the session's transaction. A fifth of the
    client CPU of psycopg's pipelined ``executemany`` for 137 rows (measured: 0.3 against
    1.7 ms), with the same constraints, indexes and transaction; psycopg adapts the values."""
    quote = connection.dialect.identifier_preparer.quote
    table = quote(ANSWER_TABLE.name)
    columns = ", ".join(quote(key) for key in _INSERT_KEYS)
    driver = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for shared, values in returns:
            for value in values:
                copy.write_row((*shared, *value))


def _convert(value: Any, process: _Processor) -> Any:
    return value if process is None or value is None else process(value)


@dataclass
class Decision:
    """Everything validation found about one submission, ready to be recorded."""

    submission_id: int
    claim: str
    problems: list[Problem]
    unreadable: bool
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    recipient: Recipient | None = None
    attachment: dict[str, str] | None = None
    stored: list[dict[str, Any]] | None = None

    @property
    def outcome(self) -> str:
        return outcome_of(self.problems, unreadable=self.unreadable)

    def stored_problems(self) -> list[dict[str, Any]]:
        """The report's problems, in workbook order, with their wording (computed once)."""
        if self.stored is None:
            self.problems.sort(key=sort_key)
            self.stored = [p.as_dict() for p in self.problems[:MAX_STORED_PROBLEMS]]
        return self.stored


_LABELS: Final = "resotrack.feedback_labels"


def _labels(
    session: Session, submission: Submission, language: str
) -> tuple[str | None, dict[str, str] | None]:
    """The cycle's title and the entity's name fields in ``language`` (registry.grammar; see
    :func:`_prefetch_labels`)."""
    wanted = (submission.cycle_id, submission.entity_code, language)
    _prefetch_labels(session, {wanted})
    return session.info[(_LABELS, *wanted)]  # type: ignore[no-any-return]


def _prefetch_labels(session: Session, wanted: set[tuple[int | None, str | None, str]]) -> None:
    """The labels of every (cycle, entity, language) of a group, in two queries, kept for the
    transaction: ORM gets per decision were a fifth of its time on PostgreSQL."""
    wanted = {key for key in wanted if (_LABELS, *key) not in session.info}
    if not wanted:
        return
    connection = session.connection()
    titles = {
        cycle_id: title
        for cycle_id, title in connection.execute(
            select(ReportingCycle.id, ReportingCycle.title).where(
                ReportingCycle.id.in_(sorted({c for c, _, _ in wanted if c is not None}))
            )
        )
    }
    names = {
        code: (kind, {"en": en, "fr": fr, "ar": ar})
        for code, kind, en, fr, ar in connection.execute(
            select(
                ReportingEntity.code,
                ReportingEntity.kind,
                ReportingEntity.name_en,
                ReportingEntity.name_fr,
                ReportingEntity.name_ar,
            ).where(ReportingEntity.code.in_(sorted({e for _, e, _ in wanted if e is not None})))
        )
    }
    for cycle, entity, language in wanted:
        named = names.get(entity or "")
        session.info[(_LABELS, cycle, entity, language)] = (
            titles.get(cycle) if cycle is not None else None,
            grammar.fields(entity or "", named[0], named[1], catalog.language(language))
            if named
            else None,
        )


def _feedback_context(
    session: Session, submission: Submission, decision: Decision, language: str
) -> dict[str, Any]:
    from resotrack.validation.feedback import table
    from resotrack.validation.messages import feedback_text

    stored = decision.stored_problems()
    cycle_title, entity_fields = _labels(session, submission, language)
    lines = table(stored[:MAX_EMAILED_PROBLEMS], language)
    severities = [p.severity for p in decision.problems[: len(lines)]]
    received = _aware(submission.received_at).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "name": decision.recipient.name if decision.recipient else None,
        **(entity_fields or {"entity_name": submission.entity_code or ""}),
        "cycle_title": cycle_title or "",
        "file_name": submission.original_name,
        "received_text": received,
        "outcome": decision.outcome,
        "outcome_label": feedback_text(f"subject.{decision.outcome}", language),
        "answers": decision.summary.get("answers_changed", 0),
        "problems": [
            {
                "row": row,
                "paragraph": paragraph,
                "column": column,
                "message": message,
                "fix": fix,
                "severity": severity,
                "severity_label": feedback_text(f"severity.{severity}", language),
            }
            for (row, paragraph, column, message, fix), severity in zip(
                lines, severities, strict=True
            )
        ],
        "more": max(0, len(decision.problems) - len(lines)),
        "has_annotated_copy": decision.attachment is not None,
    }


def record(session: Session, decision: Decision) -> dict[str, Any]:
    """Write the decision (caller's transaction); raise :class:`ClaimLost` if not ours."""
    return record_many(session, [decision])[0]


def record_many(session: Session, decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """Write ``decisions`` in the caller's transaction; raise :class:`ClaimLost` if any one of
    them is no longer ours (the caller then rolls back: nothing of the others is written).

    The submissions are locked and the answers of every accepted return are stored in a few
    statements for the whole group, not one round of statements per decision: on
    PostgreSQL each statement costs a round trip and the server's own per-statement work.
    """
    locked = lock_submissions(session, [d.submission_id for d in decisions])
    submissions: list[Submission] = []
    for decision in decisions:
        submission = locked.get(decision.submission_id)
        claim = (submission.report or {}).get("claim", {}) if submission is not None else {}
        if (
            submission is None
            or submission.state != SubmissionState.VALIDATING
            or claim.get("token") != decision.claim
        ):
            raise ClaimLost(f"submission {decision.submission_id} is no longer ours to decide")
        submissions.append(submission)
    accepting = [
        (submission, decision.rows)
        for submission, decision in zip(submissions, decisions, strict=True)
        if decision.outcome in ANSWERS_STORED
    ]
    changed = dict(
        zip((s.id for s, _ in accepting), store_returns(session, accepting), strict=True)
    )
    for submission, decision in zip(submissions, decisions, strict=True):
        stored = decision.stored_problems()
        decision.summary.update(
            {
                "answers_changed": changed.get(submission.id, 0),
                "blockers": sum(p.severity == "blocker" for p in decision.problems),
                "warnings": sum(p.severity == "warning" for p in decision.problems),
                "problems_not_listed": max(0, len(decision.problems) - len(stored)),
                "decided_at": clock.now().isoformat(),
            }
        )
    _queue_feedback(session, list(zip(submissions, decisions, strict=True)))
    return [
        _write_decision(session, submission, decision)
        for submission, decision in zip(submissions, decisions, strict=True)
    ]


def _write_decision(session: Session, submission: Submission, decision: Decision) -> dict[str, Any]:
    """The report, the state and the audit row of one decision."""
    outcome, summary = decision.outcome, decision.summary
    submission.report = {
        "outcome": outcome,
        "problems": decision.stored_problems(),
        "summary": summary,
    }
    submission.state = outcome
    submission.decided_at = clock.now()
    audit.record(
        session,
        ACTOR,
        f"submission.{outcome}",
        f"submission:{submission.id}",
        blockers=summary["blockers"],
        warnings=summary["warnings"],
        answers=summary["answers_changed"],
    )
    return {
        "submission_id": submission.id,
        "cycle_id": submission.cycle_id,
        "entity_code": submission.entity_code,
        "outcome": outcome,
        "blockers": summary["blockers"],
        "warnings": summary["warnings"],
        "answers_changed": summary["answers_changed"],
    }


def _language(recipient: Recipient) -> str:
    """The recipient's language if resotrack writes in it, else English."""
    return recipient.language if recipient.language in ("ar", "en", "fr") else "en"


def _queue_feedback(session: Session, decided: Sequence[tuple[Submission, Decision]]) -> None:
    """Queue the feedback email of each decision that has someone to tell, all at once, and
    say in its summary what became of it."""
    from resotrack.mail import Message, enqueue_many

    told = [(s, d) for s, d in decided if d.recipient is not None]
    for _, decision in decided:
        decision.summary["feedback"] = {"sent_to": None}
    _prefetch_labels(
        session,
        {(s.cycle_id, s.entity_code, _language(d.recipient)) for s, d in told if d.recipient},
    )
    messages = []
    for submission, decision in told:
        recipient = decision.recipient
        assert recipient is not None
        language = _language(recipient)
        messages.append(
            Message(
                key=f"feedback:{submission.id}",
                kind="feedback",
                template="feedback",
                language=language,
                context=_feedback_context(session, submission, decision, language),
                to=[recipient.email],
                attachments=[decision.attachment] if decision.attachment else [],
                cycle_id=submission.cycle_id,
                entity_code=submission.entity_code,
                focal_point_id=recipient.focal_point_id,
            )
        )
    for (submission, decision), message, queued in zip(
        told, messages, enqueue_many(session, messages), strict=True
    ):
        if isinstance(queued, ValueError):  # a bad address: the decision stands, staff see why
            log.warning("feedback for submission %s not queued: %s", submission.id, queued)
            decision.summary["feedback"] = {"sent_to": None, "error": str(queued)[:300]}
        else:
            decision.summary["feedback"] = {
                "sent_to": message.to[0],
                "language": message.language,
                "outbox_id": queued.id,
            }


__all__ = [
    "ClaimLost",
    "Decision",
    "Recipient",
    "lock_submission",
    "lock_submissions",
    "recipient_for",
    "record",
    "record_many",
    "store_answers",
    "store_returns",
]
