"""Quality rules: the Great Expectations suite in ``expectations/return_quality.json``.

GX 1.x is called directly (no Airflow provider): one ephemeral data context per process, one
pandas data source, one whole-dataframe batch definition, and the suite loaded from JSON.
Importing GX costs seconds, so this module is imported only by the process that validates,
and :func:`runtime` builds everything once per process (the warm validation service keeps it).

Several returns are validated in one GX run: their parsed rows are stacked in one frame, with
a ``_key`` per return, and unexpected rows are mapped back through the frame's index. Rules
about a whole return ("it came back unchanged", "every row says the same") are expressed
on columns derived here, once per return, so they stack too; such rules carry
``"scope": "return"`` in their meta and give one problem per return, not one per row.

Each expectation's ``meta`` gives its rule id, its severity (``blocker`` or ``warning``) and
its wording; GX's own ``severity`` mirrors it (critical/warning) for the Data Docs, which are
built for the Secretariat in ``<home>/gx/data_docs``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from resotrack.questionnaires.spec import ANSWER_FIELDS
from resotrack.validation.config import suite_path
from resotrack.validation.report import Problem

log = logging.getLogger(__name__)

ANSWER_COLUMNS: Final = ANSWER_FIELDS
SUITE_NAME: Final = "return_quality"
SITE_NAME: Final = "secretariat"
_SAME_TEXT_MIN_ROWS: Final = 3
_SHOWN: Final = 60


@dataclass(frozen=True)
class Rule:
    """An expectation's meta: what the rule is called, how grave, where it points."""

    rule: str
    severity: str
    column: str | None
    per_return: bool


@dataclass
class QualityInput:
    """One return to check: its parsed rows (one dict per row, ``_row`` = Excel row) and
    what it is compared with.

    ``sent`` holds the answer cells of the questionnaire as sent, by (resolution, paragraph),
    parsed like the return (``None`` when unknown: then only a blank return is "unchanged").
    ``adopted`` gives each resolution's adoption date.
    """

    key: int
    rows: list[dict[str, Any]]
    sent: Mapping[tuple[str, int], Mapping[str, Any]] | None = None
    adopted: Mapping[str, dt.date | None] = field(default_factory=dict)


def load_suite_json(path: Path | None = None) -> dict[str, Any]:
    """The suite as JSON, its rules checked: every expectation needs a rule and a severity."""
    suite: dict[str, Any] = json.loads((path or suite_path()).read_text("utf-8"))
    for expectation in suite.get("expectations", []):
        meta = expectation.get("meta") or {}
        if meta.get("severity") not in ("blocker", "warning") or not meta.get("rule"):
            raise ValueError(f"{expectation.get('type')}: meta needs a rule and a severity")
    return suite


class _Runtime:
    """GX objects for this process: context, batch definition, suite and its rules."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        source = self.context.data_sources.add_pandas("returns")
        asset = source.add_dataframe_asset("return_rows")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("returns")
        self.lock = threading.Lock()
        self.sites: dict[Path, str] = {}
        self.pending_docs: list[Any] = []
        self.load_suite()

    def load_suite(self) -> None:
        path = suite_path()
        spec = load_suite_json(path)
        suite = self.gx.ExpectationSuite(**{**spec, "name": SUITE_NAME})
        if len(suite.expectations) != len(spec["expectations"]):
            # GX logs and drops an expectation it cannot build: that must not pass silently.
            raise ValueError(f"{path}: some expectations are not valid for GX")
        with contextlib.suppress(Exception):  # GX raises its own error for a missing suite
            self.context.suites.delete(SUITE_NAME)
        self.suite = self.context.suites.add(suite)
        self.rules = [
            Rule(
                rule=meta["rule"],
                severity=meta["severity"],
                column=meta.get("column"),
                per_return=meta.get("scope") == "return",
            )
            for meta in (e.meta or {} for e in self.suite.expectations)
        ]
        self.suite_mtime = path.stat().st_mtime_ns
        self.suite_path = path

    def fresh(self) -> _Runtime:
        """Reload the suite when staff changed the file (or the path changed)."""
        path = suite_path()
        if path != self.suite_path or path.stat().st_mtime_ns != self.suite_mtime:
            self.load_suite()
        return self


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> _Runtime:
    """This process's GX runtime, built on first use (the import alone takes seconds)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = _Runtime()
        return _runtime.fresh()


# --- derived columns ---------------------------------------------------------------------


def _unchanged(item: QualityInput) -> bool:
    """The return says nothing new: blank, or equal to the questionnaire as sent.

    Both sides went through the same contract parsing (text trimmed, empty as None), so
    plain equality compares them; the loops stop at the first answer that differs.
    """
    rows = item.rows
    if all(row[c] is None for row in rows for c in ANSWER_COLUMNS):
        return True
    if item.sent is None:
        return False
    for row in rows:
        sent = item.sent.get((row["resolution"], row["paragraph"]))
        if sent is None or any(sent.get(c) != row[c] for c in ANSWER_COLUMNS):
            return False
    return True


def _same_text(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Every row carries the same measures text (spacing and case aside)."""
    if len(rows) < _SAME_TEXT_MIN_ROWS or rows[0]["measures"] is None:
        return False
    first = " ".join(str(rows[0]["measures"]).split()).casefold()
    return all(
        row["measures"] is not None and " ".join(str(row["measures"]).split()).casefold() == first
        for row in rows
    )


def _stack(items: Sequence[QualityInput]) -> pd.DataFrame:
    """Every return's rows in one frame, with the derived columns the suite expects."""
    columns: dict[str, list[Any]] = {
        "_key": [],
        "_row": [],
        "_paragraph": [],
        "_resolution": [],
        "status": [],
        "measures": [],
        "challenges": [],
        "explanation": [],
        "evidence": [],
        "start_date": [],
        "adopted_on": [],
        "unchanged": [],
        "same_text_everywhere": [],
    }
    for item in items:
        rows, n = item.rows, len(item.rows)
        columns["_key"] += [item.key] * n
        for name, key in (
            ("_row", "_row"),
            ("_paragraph", "paragraph"),
            ("_resolution", "resolution"),
            ("status", "status"),
            ("measures", "measures"),
            ("challenges", "challenges"),
            ("evidence", "evidence"),
        ):
            columns[name] += [row[key] for row in rows]
        columns["explanation"] += [row["measures"] or row["challenges"] for row in rows]
        columns["start_date"] += [
            d if isinstance(d, dt.date) else None for d in (row["start_date"] for row in rows)
        ]
        columns["adopted_on"] += [item.adopted.get(row["resolution"]) for row in rows]
        columns["unchanged"] += [_unchanged(item)] * n
        columns["same_text_everywhere"] += [_same_text(rows)] * n
    # Dates stay Python dates in object columns: GX compares them as they are, where
    # datetime64 columns cost a conversion larger than the rest of the run.
    stacked = pd.DataFrame(columns)
    for name in (
        "start_date",
        "adopted_on",
        "_paragraph",
        "_resolution",
        "status",
        "measures",
        "challenges",
        "explanation",
    ):
        stacked[name] = stacked[name].astype(object)
    stacked["evidence"] = stacked["evidence"].astype(object)
    return stacked


# --- running the suite -------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    shown = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"


def _integer(value: Any) -> int | None:
    try:
        return None if pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _problems(
    stacked: pd.DataFrame, rule: Rule, indices: Iterable[Any]
) -> list[tuple[int, Problem]]:
    found: list[tuple[int, Problem]] = []
    seen: set[int] = set()
    for index in indices:
        position = int(index)
        key = int(stacked.at[position, "_key"])
        if rule.per_return:
            if key in seen:
                continue
            seen.add(key)
            found.append((key, Problem(rule.rule, severity=rule.severity)))  # type: ignore[arg-type]
            continue
        paragraph = stacked.at[position, "_paragraph"]
        values: dict[str, Any] = {}
        if rule.column and rule.column in stacked.columns:
            values["value"] = _shown(stacked.at[position, rule.column])
        adopted = stacked.at[position, "adopted_on"]
        if rule.column == "start_date" and adopted is not None:
            values["adopted"] = _shown(adopted)
        found.append(
            (
                key,
                Problem(
                    rule.rule,
                    severity=rule.severity,  # type: ignore[arg-type]
                    row=int(stacked.at[position, "_row"]),
                    paragraph=_integer(paragraph),
                    resolution=str(stacked.at[position, "_resolution"]),
                    column=rule.column,
                    values=values,
                ),
            )
        )
    return found


def _exception(info: Any) -> str | None:
    """The error of a rule that could not run; GX reports it flat or per metric."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def check_quality(
    items: Sequence[QualityInput], *, today: dt.date, name: str = "returns"
) -> dict[int, list[Problem]]:
    """Run the suite over ``items`` at once; problems by item key.

    ``name`` labels the run in the Data Docs (call :func:`build_data_docs` to publish).
    """
    found: dict[int, list[Problem]] = {item.key: [] for item in items}
    if not items:
        return found
    stacked = _stack(items)
    rt = runtime()
    with rt.lock:
        batch = rt.batch_definition.get_batch(batch_parameters={"dataframe": stacked})
        result = batch.validate(
            rt.suite,
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0},
            expectation_parameters={"today": today},
        )
        rt.pending_docs.append((name, result))
        del rt.pending_docs[:-50]  # docs lag behind at worst: never grow without bound
    rules = {rule.rule: rule for rule in rt.rules}
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        name = str(((config.meta if config is not None else None) or {}).get("rule", "?"))
        failure = _exception(outcome.exception_info)
        if failure is not None:  # a rule that cannot run must not pass silently
            raise RuntimeError(f"quality rule {name} failed to run: {failure}")
        rule = rules.get(name)
        if rule is None:
            continue
        indices = (outcome.result or {}).get("unexpected_index_list") or []
        for key, problem in _problems(stacked, rule, indices):
            found[key].append(problem)
    for key, problems in found.items():
        if any(p.rule == "quality.not_a_reply" for p in problems):
            # "You sent it back unchanged" says it all; row-level echoes of it are noise.
            found[key] = [p for p in problems if p.rule == "quality.not_a_reply"]
    return found


def build_data_docs(home: Path) -> Path | None:
    """Publish the runs validated since the last call to ``<home>/gx/data_docs``.

    Off the latency path: the service calls it after answering, the sweep at its end.
    """
    rt = runtime()
    with rt.lock:
        pending, rt.pending_docs = rt.pending_docs, []
        if not pending:
            return None
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        base = home / "gx" / "data_docs"
        site = rt.sites.get(base)
        if site is None:
            site = f"{SITE_NAME}-{len(rt.sites)}"
            rt.context.add_data_docs_site(
                site_name=site,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(base),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
            rt.sites[base] = site
        keys = []
        for name, result in pending:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=SUITE_NAME),
                run_id=RunIdentifier(run_name=name),
                batch_identifier=name,
            )
            rt.context.validation_results_store.set(key, result)
            keys.append(key)
        rt.context.build_data_docs(site_names=[site], resource_identifiers=keys)
    return base / "index.html"


def warm() -> None:
    """Import GX and run the suite once on a tiny return, so the first real one is fast."""
    row = {"_row": 2, "resolution": "R", "paragraph": 1, **{c: None for c in ANSWER_COLUMNS}}
    check_quality([QualityInput(0, [row])], today=dt.date.today(), name="warm-up")
    rt = runtime()
    with rt.lock:
        rt.pending_docs = [d for d in rt.pending_docs if d[0] != "warm-up"]


__all__ = [
    "ANSWER_COLUMNS",
    "QualityInput",
    "build_data_docs",
    "check_quality",
    "load_suite_json",
    "runtime",
    "warm",
]
