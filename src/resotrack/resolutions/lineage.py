"""Lineage of mandates: the paragraph of an earlier resolution each operative paragraph renews.

Resolutions are renewed session after session with most paragraphs carried over, reworded or
renumbered. When a version is stored, each of its operative paragraphs is matched against the
paragraphs of earlier resolutions in the same language:

1. **Which earlier resolutions.** Every earlier resolution (adopted before, or imported before
   when a date is missing) in the same language gets a prior from its title and its vocabulary;
   the paragraphs of the :data:`CANDIDATE_RESOLUTIONS` best are compared.
2. **Which paragraphs.** Texts are normalised (case, accents, Arabic letter variants, digits and
   punctuation dropped, so renumbered cross-references do not count) and compared with
   rapidfuzz; the score mixes the word-order-insensitive similarity with the prior.
3. **One predecessor per paragraph, one successor per predecessor.** A global assignment
   (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`) maximises the total
   score, so two paragraphs never claim the same predecessor.

A score at or above :data:`REVIEW_THRESHOLD` is a link; between :data:`FLOOR` and the threshold
it is proposed for staff review (``confirm`` or ``reject``); below it the paragraph is new.
Staff decisions survive when lineage is worked out again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.catalog import NP_, ValueNames
from resotrack.resolutions.models import (
    OperativeParagraph,
    ParagraphLineage,
    Resolution,
    ResolutionVersion,
)

#: At or above: linked without review. Below (down to FLOOR): proposed, staff decide.
REVIEW_THRESHOLD: Final = 80.0
#: Below: the paragraph is new.
FLOOR: Final = 55.0
#: How many earlier resolutions (best prior first) have their paragraphs compared.
CANDIDATE_RESOLUTIONS: Final = 3
#: Weight of the resolution prior in a paragraph's score (the rest is the text).
PRIOR_WEIGHT: Final = 0.1

LINKED, REVIEW, NEW, CONFIRMED, REJECTED = "linked", "review", "new", "confirmed", "rejected"
#: What a paragraph's link to its predecessor is called (``values`` domain).
LINEAGE_STATES: Final = ValueNames(
    "lineage state",
    {
        LINKED: NP_("lineage state", "linked"),
        CONFIRMED: NP_("lineage state", "confirmed by staff"),
        REVIEW: NP_("lineage state", "to review"),
        REJECTED: NP_("lineage state", "rejected by staff"),
        NEW: NP_("lineage state", "new"),
    },
)
#: States whose predecessor counts as the paragraph's predecessor.
WITH_PREDECESSOR: Final = frozenset({LINKED, CONFIRMED})

_MARKS: Final = re.compile(r"[\u0300-\u036f\u064b-\u065f\u0670]+")
_NON_WORD: Final = re.compile(r"[\W\d_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, no accents or Arabic vowel marks, no digits or punctuation, single spaces."""
    arabic = text.replace("ة", "ه").replace("ى", "ي").replace("ـ", "")  # ta marbuta, alif maqsura
    folded = unicodedata.normalize("NFKD", arabic.casefold())
    return " ".join(_NON_WORD.sub(" ", _MARKS.sub("", folded)).split())


@lru_cache(maxsize=100_000)
def _sorted_words(text: str) -> str:
    """The normalised words in alphabetical order: comparing these compares texts whatever
    the order of their clauses (rapidfuzz's token-sort ratio, sorted once, not per pair)."""
    return " ".join(sorted(normalise(text).split()))


@lru_cache(maxsize=20_000)
def _vocabulary(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for t in texts for w in t.split() if len(w) > 3)


class LineageError(ValueError):
    """A lineage request that cannot be done (unknown paragraph, nothing to decide)."""


@dataclass(frozen=True)
class _Document:
    """One resolution version as lineage sees it."""

    version_id: int
    symbol: str
    language: str
    order: tuple[Any, int]  # adoption date (or None) and version id, for "earlier than"
    title: str
    paragraph_ids: tuple[int, ...]
    numbers: tuple[int, ...]
    texts: tuple[str, ...]
    vocabulary: frozenset[str]


@dataclass(frozen=True)
class Match:
    """A paragraph's lineage as printed by the CLI."""

    paragraph: int
    state: str
    predecessor: dict[str, Any] | None
    proposed: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _documents(session: Session, where: Any = None) -> list[_Document]:
    """Current versions (newest per resolution) with their normalised paragraphs, two queries."""
    latest = (
        select(
            ResolutionVersion.resolution_id.label("rid"),
            func.max(ResolutionVersion.version).label("newest"),
        )
        .group_by(ResolutionVersion.resolution_id)
        .subquery()
    )
    query = (
        select(
            ResolutionVersion.id,
            Resolution.symbol,
            ResolutionVersion.language,
            ResolutionVersion.adopted_on,
            ResolutionVersion.title,
        )
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .join(
            latest,
            (latest.c.rid == ResolutionVersion.resolution_id)
            & (latest.c.newest == ResolutionVersion.version),
        )
    )
    if where is not None:
        query = query.where(where)
    heads = session.execute(query).all()
    by_version: dict[int, list[tuple[int, int, str]]] = {h[0]: [] for h in heads}
    rows = session.execute(
        select(
            OperativeParagraph.version_id,
            OperativeParagraph.id,
            OperativeParagraph.number,
            OperativeParagraph.text,
        )
        .where(OperativeParagraph.version_id.in_(list(by_version)))
        .order_by(OperativeParagraph.version_id, OperativeParagraph.number)
    ).all()
    for version_id, pid, number, text in rows:
        by_version[version_id].append((pid, number, _sorted_words(text)))
    documents = []
    for version_id, symbol, language, adopted_on, title in heads:
        paragraphs = by_version[version_id]
        texts = tuple(p[2] for p in paragraphs)
        documents.append(
            _Document(
                version_id=version_id,
                symbol=symbol,
                language=language,
                order=(adopted_on, version_id),
                title=normalise(title or ""),
                paragraph_ids=tuple(p[0] for p in paragraphs),
                numbers=tuple(p[1] for p in paragraphs),
                texts=texts,
                vocabulary=_vocabulary(texts),
            )
        )
    return documents


def _earlier(candidate: _Document, new: _Document) -> bool:
    (c_date, c_id), (n_date, n_id) = candidate.order, new.order
    if c_date is not None and n_date is not None:
        return bool(c_date < n_date)
    return c_id < n_id


class _Priors:
    """How much each document of a pool looks like an earlier version of another (0–1): half
    the similarity of their titles, half the overlap of their vocabularies (Jaccard), for all
    pairs at once (a sparse product, one rapidfuzz call). ``single``: priors of one document
    only (an import), by set intersections, without building the matrix."""

    def __init__(self, pool: Sequence[_Document], *, single: bool = False) -> None:
        from scipy.sparse import csr_matrix

        self.pool = pool
        self.index = {d.version_id: i for i, d in enumerate(pool)}
        self.sizes = [len(d.vocabulary) for d in pool]
        self.single = single
        if single:
            return
        ids: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, document in enumerate(pool):
            for word in document.vocabulary:
                rows.append(i)
                cols.append(ids.setdefault(word, len(ids)))
        self.words = csr_matrix(
            ([1.0] * len(rows), (rows, cols)), shape=(len(pool), max(len(ids), 1))
        )
        self.words_t = self.words.T.tocsc()

    def row(self, new: _Document) -> list[float]:
        from rapidfuzz import fuzz, process

        i = self.index[new.version_id]
        if self.single:
            shared = [len(new.vocabulary & d.vocabulary) for d in self.pool]
        else:
            shared = (self.words[i] @ self.words_t).toarray()[0]
        titles = process.extract(  # every candidate, in pool order below
            new.title, [d.title for d in self.pool], scorer=fuzz.token_set_ratio, limit=None
        )
        title = [0.0] * len(self.pool)
        for _, value, j in titles:
            title[j] = float(value) / 100.0
        out = []
        for j, size in enumerate(self.sizes):
            union = self.sizes[i] + size - shared[j]
            out.append(0.5 * title[j] + 0.5 * (float(shared[j]) / union if union else 0.0))
        return out


def _assign(
    new: _Document, candidates: Sequence[tuple[_Document, float]]
) -> list[tuple[int | None, float]]:
    """Per paragraph of ``new``: the predecessor paragraph id (or None) and its score."""
    import numpy as np
    from rapidfuzz import fuzz, process
    from scipy.optimize import linear_sum_assignment

    if not new.texts or not candidates:
        return [(None, 0.0)] * len(new.texts)
    pool_ids: list[int] = []
    pool_texts: list[str] = []
    pool_prior: list[float] = []
    for candidate, prior in candidates:
        pool_ids.extend(candidate.paragraph_ids)
        pool_texts.extend(candidate.texts)
        pool_prior.extend([prior] * len(candidate.texts))
    if not pool_texts:
        return [(None, 0.0)] * len(new.texts)
    text = process.cdist(new.texts, pool_texts, scorer=fuzz.ratio, dtype=np.float32, workers=1)
    score = (1.0 - PRIOR_WEIGHT) * text + PRIOR_WEIGHT * 100.0 * np.asarray(
        pool_prior, dtype=np.float32
    )
    result: list[tuple[int | None, float]] = [
        (None, round(float(best), 1)) for best in score.max(axis=1)
    ]
    # Certain links first, so an uncertain one never displaces them; then the uncertain ones
    # among the paragraphs and predecessors left. Squared margins favour one strong link over
    # two middling ones.
    free_rows = np.ones(len(new.texts), dtype=bool)
    free_cols = np.ones(len(pool_texts), dtype=bool)
    for low in (REVIEW_THRESHOLD, FLOOR):
        eligible = (score >= low) & free_rows[:, None] & free_cols[None, :]
        if not eligible.any():
            continue
        gain = np.where(eligible, (score - low + 1.0) ** 2, 0.0)
        rows, cols = linear_sum_assignment(gain, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if eligible[r, c]:
                result[r] = (pool_ids[c], round(float(score[r, c]), 1))
                free_rows[r] = free_cols[c] = False
    return result


def _candidates(new: _Document, priors: _Priors) -> list[tuple[_Document, float]]:
    """The earlier resolutions in ``new``'s language most like it, with their prior."""
    row = priors.row(new)
    earlier = [
        (c, row[j])
        for j, c in enumerate(priors.pool)
        if c.version_id != new.version_id
        and c.symbol != new.symbol
        and c.language == new.language
        and _earlier(c, new)
    ]
    earlier.sort(key=lambda pair: (-pair[1], pair[0].version_id))
    return earlier[:CANDIDATE_RESOLUTIONS]


def _store(session: Session, new: _Document, found: list[tuple[int | None, float]]) -> int:
    """Write the lineage of ``new``'s paragraphs, keeping staff decisions; returns links made."""
    existing = {
        row.paragraph_id: row
        for row in session.scalars(
            select(ParagraphLineage).where(
                ParagraphLineage.paragraph_id.in_(list(new.paragraph_ids))
            )
        )
    }
    now = clock.now()
    linked = 0
    for pid, (predecessor, score) in zip(new.paragraph_ids, found, strict=True):
        if predecessor is None:
            state = NEW
        elif score >= REVIEW_THRESHOLD:
            state = LINKED
        else:
            state = REVIEW
        row = existing.get(pid)
        if row is not None and row.state in (CONFIRMED, REJECTED):
            continue
        if row is None:
            session.add(
                ParagraphLineage(
                    paragraph_id=pid,
                    predecessor_id=predecessor,
                    score=score,
                    state=state,
                    computed_at=now,
                )
            )
        elif (row.predecessor_id, row.state, row.score) != (predecessor, state, score):
            row.predecessor_id, row.state, row.score, row.computed_at = (
                predecessor,
                state,
                score,
                now,
            )
        linked += state == LINKED
    return linked


def link_version(session: Session, version: ResolutionVersion) -> int:
    """Work out the lineage of one stored version (called on import); returns links made."""
    # What _earlier will accept, narrowed in SQL: adopted before, or imported before when
    # either date is missing.
    if version.adopted_on is None:
        earlier = ResolutionVersion.id <= version.id
    else:
        earlier = (
            (ResolutionVersion.adopted_on < version.adopted_on)
            | ResolutionVersion.adopted_on.is_(None)
            | (ResolutionVersion.id == version.id)
        )
    pool = _documents(session, (ResolutionVersion.language == version.language) & earlier)
    if not any(d.version_id == version.id for d in pool):
        pool.append(_documents_for_version(session, version.id))  # an older version
    new = next(d for d in pool if d.version_id == version.id)
    found = _assign(new, _candidates(new, _Priors(pool, single=True)))
    return _store(session, new, found)


def _documents_for_version(session: Session, version_id: int) -> _Document:
    paragraphs = session.execute(
        select(OperativeParagraph.id, OperativeParagraph.number, OperativeParagraph.text)
        .where(OperativeParagraph.version_id == version_id)
        .order_by(OperativeParagraph.number)
    ).all()
    version = session.get_one(ResolutionVersion, version_id)
    texts = tuple(_sorted_words(p[2]) for p in paragraphs)
    return _Document(
        version_id=version_id,
        symbol=version.resolution.symbol,
        language=version.language,
        order=(version.adopted_on, version_id),
        title=normalise(version.title or ""),
        paragraph_ids=tuple(p[0] for p in paragraphs),
        numbers=tuple(p[1] for p in paragraphs),
        texts=texts,
        vocabulary=_vocabulary(texts),
    )


def link_all(session: Session, symbols: Iterable[str] | None = None) -> int:
    """Work out the lineage of the current version of ``symbols`` (all resolutions if None),
    reading every resolution once; returns the links made."""
    pool = _documents(session)
    priors = _Priors(pool)
    wanted = set(symbols) if symbols is not None else None
    linked = 0
    for document in pool:
        if wanted is None or document.symbol in wanted:
            found = _assign(document, _candidates(document, priors))
            linked += _store(session, document, found)
    return linked


def _current(session: Session, symbol: str) -> ResolutionVersion:
    from resotrack.resolutions.queries import get_resolution

    return get_resolution(session, symbol).current


def lineage_of(session: Session, symbol: str) -> list[Match]:
    """Per paragraph of the current version of ``symbol``: its predecessor, or None."""
    version = _current(session, symbol)
    rows = {
        row.paragraph_id: row
        for row in session.scalars(
            select(ParagraphLineage).where(
                ParagraphLineage.paragraph_id.in_([p.id for p in version.paragraphs])
            )
        )
    }
    predecessors = {
        pid: (sym, number)
        for pid, sym, number in session.execute(
            select(OperativeParagraph.id, Resolution.symbol, OperativeParagraph.number)
            .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
            .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
            .where(
                OperativeParagraph.id.in_(
                    [r.predecessor_id for r in rows.values() if r.predecessor_id]
                )
            )
        )
    }
    matches = []
    for paragraph in version.paragraphs:
        row = rows.get(paragraph.id)
        if row is None:
            matches.append(Match(paragraph.number, NEW, None, None))
            continue
        link = None
        if row.predecessor_id in predecessors:
            sym, number = predecessors[row.predecessor_id]
            link = {"symbol": sym, "paragraph": number, "score": row.score}
        matches.append(
            Match(
                paragraph.number,
                row.state,
                link if row.state in WITH_PREDECESSOR else None,
                link if row.state in (REVIEW, REJECTED) else None,
            )
        )
    return matches


def predecessor_of(session: Session, symbol: str, number: int) -> tuple[str, int] | None:
    """The (symbol, paragraph number) a paragraph of ``symbol``'s current version renews."""
    for match in lineage_of(session, symbol):
        if match.paragraph == number and match.predecessor is not None:
            return match.predecessor["symbol"], match.predecessor["paragraph"]
    return None


def predecessors(session: Session, version_id: int) -> dict[int, tuple[str, int]]:
    """Paragraph number → (symbol, number) of its predecessor, for one version, in one query."""
    from sqlalchemy.orm import aliased

    successor = aliased(OperativeParagraph)
    rows = session.execute(
        select(successor.number, Resolution.symbol, OperativeParagraph.number)
        .join(ParagraphLineage, ParagraphLineage.paragraph_id == successor.id)
        .join(OperativeParagraph, OperativeParagraph.id == ParagraphLineage.predecessor_id)
        .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .where(successor.version_id == version_id)
        .where(ParagraphLineage.state.in_(WITH_PREDECESSOR))
    ).all()
    return {number: (symbol, pred) for number, symbol, pred in rows}


def decide(
    session: Session, symbol: str, number: int, *, confirm: bool, actor: str = "staff"
) -> Match:
    """Confirm or reject the proposed predecessor of paragraph ``number`` of ``symbol``."""
    version = _current(session, symbol)
    paragraph = next((p for p in version.paragraphs if p.number == number), None)
    if paragraph is None:
        numbers = [p.number for p in version.paragraphs]
        raise LineageError(
            f"{symbol} has no paragraph {number}; its paragraphs run from "
            f"{min(numbers, default=0)} to {max(numbers, default=0)}"
        )
    row = session.scalar(
        select(ParagraphLineage).where(ParagraphLineage.paragraph_id == paragraph.id)
    )
    if row is None or row.predecessor_id is None:
        raise LineageError(
            f"paragraph {number} of {symbol} has no proposed predecessor to "
            f"{'confirm' if confirm else 'reject'}: it is a new paragraph"
        )
    wanted = CONFIRMED if confirm else REJECTED
    if row.state != wanted:
        previous = row.state
        row.state, row.decided_by, row.decided_at = wanted, actor, clock.now()
        audit.record(
            session,
            actor,
            f"lineage.{wanted}",
            f"{symbol} §{number}",
            previous=previous,
            predecessor_id=row.predecessor_id,
            score=row.score,
        )
        session.flush()
    return next(m for m in lineage_of(session, symbol) if m.paragraph == number)
