"""The implementation tables of a cycle: pure pandas, no database, no files.

Everything starts from the *cells*: one row per (entity, paragraph) an entity was asked about,
holding its status or :data:`NO_REPLY`. Counting cells rather than answers is what makes the
entities that never replied show in every denominator.

Definitions (the report quotes these numbers, so they are spelled out once, here):

- An answer counts when it is *current* (the newest accepted version) and its submission was
  not sent back for correction: a return under ``correction_requested`` is owed again, so its
  rows count as no reply until a new return is accepted.
- *returned*: the entity is not on the reminders' list of entities that owe a return
  (``resotrack.reminders.non_reporting_entities``: its newest validated return is accepted);
  a snapshot without that list (made by hand) falls back to "has a counting answer". The two
  agree whenever returns are whole; with partial returns (a cycle that does not require whole
  ones), an entity that sent part has returned, and *completeness* and *timeliness* say how
  much of it.
- *on time*: returned, and its first validated submission (accepted, accepted with warnings,
  or later sent back) was received before the end of the deadline day, UTC.
- *completeness*: the share of the entity's rows whose status is anything but
  ``no_information`` (a missing row counts as incomplete).
- *timeliness*: the share of the entity's rows answered by an upload received before the end
  of the deadline day (``rows_on_time`` of ``rows``), counted per paragraph, since a
  questionnaire may come back in parts.
- *versions*: validated submissions (accepted, accepted with warnings, sent back).
- *last submission*: the newest submission in any state, refused ones included: it shows
  the entity tried.
- Roll-ups by addressee class use the *paragraph's* classes (MS, SG, ORG, ...); a paragraph
  addressed to several classes counts under each, so those rows do not add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import pandas as pd

from resotrack.consolidation.snapshot import TREND_COLUMNS, Snapshot
from resotrack.questionnaires.i18n import STATUSES
from resotrack.validation import lifecycle

KEYS: Final = ["entity", "resolution", "number"]
PARAGRAPH_KEY: Final = ["resolution", "number"]
NO_REPLY: Final = "no_reply"
NOT_ASKED: Final = ""
#: Columns of every status distribution: the scale, then the cells nobody answered.
STATUS_COLUMNS: Final[tuple[str, ...]] = (*STATUSES, NO_REPLY)
VALIDATED: Final = lifecycle.VALIDATED
REOPENED: Final = lifecycle.REOPENED
ADDRESSEE_ORDER: Final = ("MS", "SG", "ORG", "GRP", "INTL", "ALL", "NONE")
#: How far along each status is, for the heat map; the others say nothing about progress.
SCORES: Final[dict[str, float]] = {
    "fully_implemented": 1.0,
    "partially_implemented": 2 / 3,
    "in_progress": 1 / 3,
    "not_started": 0.0,
}
DETAIL_COLUMNS: Final = (
    "measures",
    "start_date",
    "national_body",
    "challenges",
    "support_requested",
    "evidence",
)


@dataclass(frozen=True)
class Frames:
    """The snapshot's tables as typed DataFrames (empty ones keep their dtypes)."""

    paragraphs: pd.DataFrame
    entities: pd.DataFrame
    asked: pd.DataFrame
    submissions: pd.DataFrame
    answers: pd.DataFrame


@dataclass(frozen=True)
class Tables:
    """Everything a build renders; each frame is documented where it is computed."""

    matrix: pd.DataFrame
    paragraphs: pd.DataFrame
    entities: pd.DataFrame
    sections: pd.DataFrame
    addressees: pd.DataFrame
    narrative: pd.DataFrame
    heat: pd.DataFrame
    curve: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    #: Renewed or repeated mandates across cycles: :func:`trend`.
    trend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TREND_COLUMNS)))


def frames(snapshot: Snapshot) -> Frames:
    """Typed frames; the paragraph ``order`` column keeps the cycle's resolution order."""
    paragraphs = snapshot.paragraphs.frame().astype({"number": "int64"})
    paragraphs["order"] = range(len(paragraphs))
    paragraphs["section"] = paragraphs["section"].fillna("").astype(str)
    paragraphs["addressees"] = [",".join(_classes(a or "")) for a in paragraphs["addressees"]]
    asked = (
        snapshot.asked.frame()
        .astype({"entity": str, "resolution": str, "number": "int64"})
        .drop_duplicates()
    )
    submissions = snapshot.submissions.frame().astype({"submission_id": "int64"})
    submissions["received_at"] = pd.to_datetime(
        submissions["received_at"], utc=True, format="ISO8601"
    )
    answers = snapshot.answers.frame().astype(
        {"entity": str, "resolution": str, "number": "int64", "submission_id": "Int64"}
    )
    return Frames(paragraphs, snapshot.entities.frame(), asked, submissions, answers)


def counting_answers(answers: pd.DataFrame, submissions: pd.DataFrame) -> pd.DataFrame:
    """Current answers minus those of returns sent back for correction."""
    reopened = submissions.loc[submissions["state"].isin(REOPENED), "submission_id"]
    return answers[~answers["submission_id"].isin(reopened)]


def cells(asked: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """One row per asked (entity, paragraph) with the answer's fields; status NO_REPLY if none."""
    merged = asked.merge(answers, on=KEYS, how="left", validate="one_to_one")
    merged["status"] = merged["status"].fillna(NO_REPLY).astype(str)
    return merged


def implementation_matrix(
    cell_frame: pd.DataFrame, paragraphs: pd.DataFrame, entity_codes: list[str]
) -> pd.DataFrame:
    """Paragraph × entity: a status code, NO_REPLY, or NOT_ASKED ("").

    Rows are the paragraphs somebody was asked about, in the resolution's order; columns are
    every entity asked, by code.
    """
    wide = cell_frame.pivot(index=PARAGRAPH_KEY, columns="entity", values="status")
    ordered = paragraphs.set_index(PARAGRAPH_KEY).sort_values("order").index
    rows = [key for key in ordered if key in wide.index]
    matrix = wide.reindex(index=pd.MultiIndex.from_tuples(rows, names=PARAGRAPH_KEY))
    matrix = matrix.reindex(columns=entity_codes).fillna(NOT_ASKED).astype(str)
    matrix.columns.name = "entity"
    return matrix


def status_counts(cell_frame: pd.DataFrame) -> pd.DataFrame:
    """Cells per (resolution, paragraph, status) as column ``n``: every roll-up sums these few
    thousand rows instead of regrouping every cell."""
    counts = cell_frame.groupby([*PARAGRAPH_KEY, "status"], sort=False).size()
    return counts.rename("n").reset_index()


def _distribution(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Cells per status under ``by``, every status column present; plus cells/replied/rate."""
    if counts.empty:
        wide = pd.DataFrame(columns=[*by, *STATUS_COLUMNS]).set_index(by)
    else:
        summed = counts.groupby([*by, "status"], sort=False)["n"].sum()
        wide = summed.unstack("status", fill_value=0)
    wide = wide.reindex(columns=list(STATUS_COLUMNS), fill_value=0).astype("int64")
    wide.columns.name = None
    wide.insert(0, "cells", wide.sum(axis=1))
    wide.insert(1, "replied", wide["cells"] - wide[NO_REPLY])
    wide.insert(2, "rate", _rate(wide["replied"], wide["cells"]))
    return wide


def _rate(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, NaN where whole is 0 (a rate of nothing is not 0 %)."""
    return (part / whole.where(whole > 0)).astype("float64")


def paragraph_table(counts: pd.DataFrame, paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Every paragraph of the cycle: entities asked, replied, response rate, statuses.

    ``counts`` comes from :func:`status_counts`. ``asked`` counts entities, including those
    that never replied (their cells are NO_REPLY); a paragraph nobody was asked about has 0
    and no rate.
    """
    dist = _distribution(counts, PARAGRAPH_KEY).rename(columns={"cells": "asked"})
    table = paragraphs[["resolution", "number", "section", "addressees", "text", "order"]].merge(
        dist.reset_index(), on=PARAGRAPH_KEY, how="left"
    )
    counts = ["asked", "replied", *STATUS_COLUMNS]
    table[counts] = table[counts].fillna(0).astype("int64")
    return table.sort_values("order").drop(columns="order").reset_index(drop=True)


def deadline_end(deadline: date) -> datetime:
    """The first instant after the deadline day (UTC): on time means received before it."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=UTC)


def entity_table(
    cell_frame: pd.DataFrame,
    submissions: pd.DataFrame,
    entities: pd.DataFrame,
    deadline: date,
    non_reporting: list[str] | None = None,
) -> pd.DataFrame:
    """One row per entity asked: returned, on time, completeness, versions, dates.

    ``non_reporting`` is the reminders' own list of entities that owe a return
    (``resotrack.reminders.non_reporting_entities``, kept in the snapshot): when given, it
    decides *returned*, so the report and the reminder ladder never disagree on who owes one.
    """
    # Timeliness per paragraph (a return may answer part of a questionnaire): a cell is on
    # time when the upload its current answer came from was received by the deadline.
    received = submissions.set_index("submission_id")["received_at"]
    answered_at = cell_frame["submission_id"].map(received) if len(received) else None
    on_time_rows = (
        answered_at.lt(pd.Timestamp(deadline_end(deadline))).fillna(False)
        if answered_at is not None
        else False
    )
    flags = pd.DataFrame(
        {
            "entity": cell_frame["entity"],
            "rows": 1,
            "replied": cell_frame["status"] != NO_REPLY,
            "informative": ~cell_frame["status"].isin([NO_REPLY, "no_information"]),
            "rows_on_time": (cell_frame["status"] != NO_REPLY) & on_time_rows,
        }
    )
    table = flags.groupby("entity").sum().astype("int64")
    validated = submissions[submissions["state"].isin(VALIDATED)]
    table["versions"] = validated.groupby("entity").size().reindex(table.index, fill_value=0)
    table["first_return_at"] = validated.groupby("entity")["received_at"].min()
    table["last_submission_at"] = submissions.groupby("entity")["received_at"].max()
    if non_reporting is None:
        table["returned"] = table["replied"] > 0
    else:
        table["returned"] = ~table.index.isin(non_reporting)
    table["on_time"] = table["returned"] & (
        table["first_return_at"].lt(pd.Timestamp(deadline_end(deadline))).fillna(False)
    )
    table["completeness"] = (table["informative"] / table["rows"]).astype("float64")
    table["timeliness"] = (table["rows_on_time"] / table["rows"]).astype("float64")
    table = table.reset_index().merge(entities, on="entity", how="left")
    columns = [
        "entity",
        "name_en",
        "kind",
        "rows",
        "replied",
        "returned",
        "on_time",
        "completeness",
        "versions",
        "first_return_at",
        "last_submission_at",
        "name_fr",
        "name_ar",
        "language",
        "rows_on_time",
        "timeliness",
    ]
    table = table[columns].astype({"versions": "int64", "returned": bool, "on_time": bool})
    return table.sort_values("entity").reset_index(drop=True)


def _with_sections(frame: pd.DataFrame, paragraphs: pd.DataFrame) -> pd.DataFrame:
    return frame.merge(paragraphs[["resolution", "number", "section"]], on=PARAGRAPH_KEY)


def section_rollup(
    counts: pd.DataFrame, paragraphs: pd.DataFrame, resolutions: list[dict[str, Any]]
) -> pd.DataFrame:
    """Per resolution and section: its paragraphs, cells asked, replied, rate, statuses."""
    dist = _distribution(_with_sections(counts, paragraphs), ["resolution", "section"])
    order: list[tuple[str, str, str]] = []
    for resolution in resolutions:
        titles = {letter: title for letter, title in resolution["sections"]}
        mine = paragraphs[paragraphs["resolution"] == resolution["symbol"]]
        letters = list(dict.fromkeys(mine.sort_values("order")["section"]))
        letters += [x for x in titles if x not in letters]
        order += [(resolution["symbol"], x, titles.get(x, "")) for x in letters]
    table = pd.DataFrame(order, columns=["resolution", "section", "title"])
    count = paragraphs.groupby(["resolution", "section"]).size().rename("paragraphs")
    table = table.merge(count.reset_index(), on=["resolution", "section"], how="left")
    table = table.merge(dist.reset_index(), on=["resolution", "section"], how="left")
    counts = ["paragraphs", "cells", "replied", *STATUS_COLUMNS]
    table[counts] = table[counts].fillna(0).astype("int64")
    return table


def _classes(addressees: str) -> list[str]:
    """The paragraph's classes; NONE (a verb that asks nothing) only when nothing else is."""
    found = [c for c in addressees.split(",") if c and c != "NONE"]
    return found or ["NONE"]


def addressee_rollup(counts: pd.DataFrame, paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Per addressee class of the paragraphs: paragraphs, cells asked, replied, rate, statuses."""
    exploded = paragraphs.assign(addressee=paragraphs["addressees"].map(_classes)).explode(
        "addressee"
    )
    count = exploded.groupby("addressee").size().rename("paragraphs")
    joined = counts.merge(exploded[["resolution", "number", "addressee"]], on=PARAGRAPH_KEY)
    dist = _distribution(joined, ["addressee"])
    table = pd.concat([count, dist], axis=1).reset_index(names="addressee")
    counts = ["paragraphs", "cells", "replied", *STATUS_COLUMNS]
    table[counts] = table[counts].fillna(0).astype("int64")
    rank = {c: i for i, c in enumerate(ADDRESSEE_ORDER)}
    table["_rank"] = table["addressee"].map(lambda c: rank.get(c, len(rank)))
    return table.sort_values(["_rank", "addressee"]).drop(columns="_rank").reset_index(drop=True)


def narrative(
    cell_frame: pd.DataFrame, paragraphs: pd.DataFrame, entities: pd.DataFrame
) -> pd.DataFrame:
    """Every measure an entity reported, paragraph by paragraph, ready to quote."""
    measures = cell_frame["measures"].fillna("").astype(str).str.strip()
    quoted = cell_frame[measures != ""].assign(measures=measures[measures != ""])
    quoted = quoted.merge(
        paragraphs[["resolution", "number", "section", "order"]], on=PARAGRAPH_KEY
    )
    quoted = quoted.merge(entities[["entity", "name_en", "name_fr", "name_ar"]], on="entity")
    quoted = quoted.sort_values(["order", "entity"])
    columns = [
        "resolution",
        "number",
        "section",
        "entity",
        "name_en",
        "name_fr",
        "name_ar",
        "status",
        *DETAIL_COLUMNS,
    ]
    return quoted[columns].reset_index(drop=True)


def heat(
    cell_frame: pd.DataFrame, paragraphs: pd.DataFrame, sections: pd.DataFrame
) -> pd.DataFrame:
    """Entity × section: mean progress score (0 not started … 1 fully implemented).

    NaN where the entity gave no status that says anything about progress there (no reply,
    not applicable, no information) or was not asked.
    """
    joined = _with_sections(cell_frame[[*KEYS, "status"]], paragraphs)
    joined["score"] = joined["status"].map(SCORES)
    entity_codes = sorted(cell_frame["entity"].unique())
    columns = list(zip(sections["resolution"], sections["section"], strict=True))
    if joined.empty:
        return pd.DataFrame(index=pd.Index(entity_codes, name="entity"))
    wide = (
        joined.groupby(["entity", "resolution", "section"])["score"]
        .mean()
        .unstack(["resolution", "section"])
    )
    index = pd.MultiIndex.from_tuples(columns, names=["resolution", "section"])
    return wide.reindex(index=entity_codes, columns=index).astype("float64")


def response_curve(entity_frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Per day of the cycle: entities returned so far (by first return) and the share."""
    returned = entity_frame.loc[entity_frame["returned"], "first_return_at"].dropna()
    first_days = sorted(ts.date() for ts in returned)
    first = min([start, *first_days[:1]])
    last = max([end, start, *first_days[-1:]])
    days = pd.date_range(first, last, freq="D").date
    asked = len(entity_frame)
    counts = [sum(1 for d in first_days if d <= day) for day in days] if asked else []
    curve = pd.DataFrame({"day": days, "returned": counts or [0] * len(days)})
    curve["rate"] = curve["returned"] / asked if asked else float("nan")
    return curve


def summary(entity_frame: pd.DataFrame, paragraph_frame: pd.DataFrame) -> dict[str, Any]:
    """Headline figures, JSON-ready (kept on the build row for lists and mails)."""
    asked = len(entity_frame)
    returned = int(entity_frame["returned"].sum())
    cells_asked = int(paragraph_frame["asked"].sum())
    cells_replied = int(paragraph_frame["replied"].sum())
    return {
        "entities_asked": asked,
        "entities_returned": returned,
        "entities_on_time": int(entity_frame["on_time"].sum()),
        "response_rate": returned / asked if asked else None,
        "paragraphs": len(paragraph_frame),
        "paragraphs_asked": int((paragraph_frame["asked"] > 0).sum()),
        "cells_asked": cells_asked,
        "cells_replied": cells_replied,
        "cell_rate": cells_replied / cells_asked if cells_asked else None,
    }


def trend(snapshot: Snapshot, counts: pd.DataFrame) -> pd.DataFrame:
    """Entities per status, cycle after cycle, for the paragraphs asked about in an earlier
    cycle (themselves or the paragraph they renew): the snapshot's earlier cycles, then this
    one (from ``counts``, :func:`status_counts`). Columns :data:`TREND_COLUMNS`, sorted by
    paragraph, then deadline."""
    earlier = snapshot.trend.frame()
    if earlier.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    earlier = earlier.astype({"number": "int64", "earlier_number": "int64", "n": "int64"})
    renewed = earlier[PARAGRAPH_KEY].drop_duplicates()
    now = counts.merge(renewed, on=PARAGRAPH_KEY)
    current = now.assign(
        earlier_resolution=now["resolution"],
        earlier_number=now["number"],
        cycle=snapshot.cycle_id,
        cycle_title=str(snapshot.cycle["title"]),
        deadline=snapshot.deadline.isoformat(),
    )[list(TREND_COLUMNS)]
    both = pd.concat([earlier, current.astype({"n": "int64"})], ignore_index=True)
    return both.sort_values([*PARAGRAPH_KEY, "deadline", "cycle", "status"]).reset_index(drop=True)


def compute(snapshot: Snapshot) -> Tables:
    """All the tables of a snapshot."""
    f = frames(snapshot)
    counted = counting_answers(f.answers, f.submissions)
    cell_frame = cells(f.asked, counted)
    entity_codes = sorted(f.asked["entity"].unique())
    counts = status_counts(cell_frame)
    paragraph_frame = paragraph_table(counts, f.paragraphs)
    entity_frame = entity_table(
        cell_frame,
        f.submissions,
        f.entities,
        snapshot.deadline,
        snapshot.cycle.get("non_reporting"),
    )
    sections = section_rollup(counts, f.paragraphs, snapshot.resolutions)
    started = snapshot.cycle.get("dispatched_at") or snapshot.cycle.get("opened_at")
    start = datetime.fromisoformat(started).date() if started else snapshot.deadline
    return Tables(
        matrix=implementation_matrix(cell_frame, f.paragraphs, entity_codes),
        paragraphs=paragraph_frame,
        entities=entity_frame,
        sections=sections,
        addressees=addressee_rollup(counts, f.paragraphs),
        narrative=narrative(cell_frame, f.paragraphs, f.entities),
        heat=heat(cell_frame, f.paragraphs, sections),
        curve=response_curve(entity_frame, min(start, snapshot.deadline), snapshot.deadline),
        summary=summary(entity_frame, paragraph_frame),
        trend=trend(snapshot, counts),
    )


def for_resolution(tables: Tables, symbol: str) -> Tables:
    """The tables narrowed to one resolution (the draft report is per resolution).

    Entities are those asked about at least one of its paragraphs; the matrix keeps its
    columns, the curve and the entity table stay cycle-wide (one return covers the cycle).
    """
    keep = tables.matrix.index.get_level_values("resolution") == symbol
    matrix = tables.matrix[keep]
    asked_here = [c for c in matrix.columns if (matrix[c] != NOT_ASKED).any()]
    paragraphs = tables.paragraphs[tables.paragraphs["resolution"] == symbol]
    entities = tables.entities[tables.entities["entity"].isin(asked_here)]
    return Tables(
        matrix=matrix[asked_here],
        paragraphs=paragraphs.reset_index(drop=True),
        entities=entities.reset_index(drop=True),
        sections=tables.sections[tables.sections["resolution"] == symbol].reset_index(drop=True),
        addressees=tables.addressees,
        narrative=tables.narrative[tables.narrative["resolution"] == symbol].reset_index(drop=True),
        heat=tables.heat.loc[:, tables.heat.columns.get_level_values(0) == symbol]
        if len(tables.heat.columns)
        else tables.heat,
        curve=tables.curve,
        summary=summary(entities, paragraphs),
        trend=tables.trend[tables.trend["resolution"] == symbol].reset_index(drop=True),
    )
