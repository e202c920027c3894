"""The contract of a returned workbook: a pandera schema built from the readable YAML in
``schemas/return_contract.yaml``.

Why a YAML of our own rather than pandera's serialised schema: staff read and change it, and
each rule must name its wording (three languages) and its place in the sheet; pandera's own
format has room for neither and is written for programs. :func:`load_schema` turns the YAML
into an ordinary ``pandera.pandas.DataFrameSchema``.

The schema parses as well as checks, with pandera ``Parser`` s: a status in any of the three
languages becomes its code, a paragraph number typed with Arabic-Indic digits or a decimal
comma becomes an integer, a date typed as text becomes a date. Excel date numbers are read
before the schema runs, since only the workbook knows its date system (1900 or 1904).

Failures become :class:`~resotrack.validation.report.Problem` s placed by Excel row (the
frame's index) and column key. pandas and pandera are imported here, so import this module
only where a contract is checked (never from a DAG file's top level).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.errors import SchemaErrorReason, SchemaErrors

from resotrack.questionnaires.i18n import LANGUAGES, status_from_label, text
from resotrack.questionnaires.workbook import COLUMNS
from resotrack.validation.config import contract_path
from resotrack.validation.read import column_letter, column_number
from resotrack.validation.report import Problem

KINDS: Final = ("text", "integer", "status", "date")
#: The question's own columns (section, verb, the paragraph's text: locked, as sent). Checked
#: here like the rest, but not sent back to the parent: nothing downstream reads them, and the
#: paragraph texts were four fifths of the answer's JSON.
NOT_SENT_BACK: Final = frozenset(c.key for c in COLUMNS if c.locked) - {"resolution", "paragraph"}
EXCEL_EPOCH_1900: Final = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (with Lotus's 29 Feb)
EXCEL_EPOCH_1904: Final = dt.date(1904, 1, 1)
_SHOWN: Final = 60  # characters of a bad value quoted back in a message

#: The paragraphs the questionnaire sent, for the row-level check (one validation at a time
#: per thread or task; a context variable keeps concurrent validations apart).
_EXPECTED: contextvars.ContextVar[frozenset[tuple[str, int]] | None] = contextvars.ContextVar(
    "expected_paragraphs", default=None
)


# --- parsing what people type ------------------------------------------------------------

_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
_MARKS: Final = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def plain_digits(value: str) -> str:
    """Arabic-Indic digits and separators as ASCII, bidi marks removed, spaces trimmed."""
    return _MARKS.sub("", value.translate(_DIGITS)).strip()


def to_number(value: Any) -> float | None:
    """A number from a cell: a float, or text like ``"12"``, ``"١٢"``, ``"12,0"``, ``"12.0"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    cleaned = plain_digits(value).replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[+-]?\d+,\d+", cleaned):  # a decimal comma
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def to_integer(value: Any) -> Any:
    """An ``int`` if the value is a whole number, else the value unchanged (to be refused)."""
    number = to_number(value)
    if number is not None and number.is_integer():
        return int(number)
    return value


def from_serial(serial: float, date1904: bool) -> dt.date | None:
    """An Excel date number as a date, in the workbook's date system."""
    if not 0 < serial < 2_958_466:  # 9999-12-31
        return None
    epoch = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH_1900
    return epoch + dt.timedelta(days=int(serial))


_MONTHS: Final[Mapping[str, int]] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "janvier", "janv", "يناير", "كانون الثاني"),
            ("february", "feb", "fevrier", "fevr", "فبراير", "شباط"),
            ("march", "mar", "mars", "مارس", "آذار"),
            ("april", "apr", "avril", "avr", "أبريل", "ابريل", "إبريل", "نيسان"),
            ("may", "mai", "مايو", "أيار"),
            ("june", "jun", "juin", "يونيو", "حزيران"),
            ("july", "jul", "juillet", "juil", "يوليو", "تموز"),
            ("august", "aug", "aout", "أغسطس", "اغسطس", "آب"),
            ("september", "sep", "sept", "septembre", "سبتمبر", "أيلول"),
            ("october", "oct", "octobre", "أكتوبر", "اكتوبر", "تشرين الأول"),
            ("november", "nov", "novembre", "نوفمبر", "تشرين الثاني"),
            ("december", "dec", "decembre", "ديسمبر", "كانون الأول"),
        ),
        start=1,
    )
    for name in names
}
_ISO: Final = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DAY_FIRST: Final = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})")
_WORDS: Final = re.compile(r"(\d{1,2})(?:er)?\s+([^\d\s,.]+(?:\s[^\d\s,.]+)?)\.?,?\s+(\d{4})")
_WORDS_US: Final = re.compile(r"([^\d\s,.]+)\.?\s+(\d{1,2}),?\s+(\d{4})")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date_text(value: str, date1904: bool = False) -> dt.date | None:
    """A date typed as text: ISO, day first (``15/03/2024``), with a month name, or a serial."""
    cleaned = plain_digits(value).replace("\u00a0", " ")
    if not cleaned:
        return None
    if match := _ISO.fullmatch(cleaned):
        return _date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_FIRST.fullmatch(cleaned):
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
        return _date(year, int(match[2]), int(match[1]))
    if match := _WORDS.fullmatch(cleaned):
        month = _MONTHS.get(_fold(match[2])) or _MONTHS.get(match[2])
        return _date(int(match[3]), month, int(match[1])) if month else None
    if match := _WORDS_US.fullmatch(cleaned):
        month = _MONTHS.get(_fold(match[1]))
        return _date(int(match[3]), month, int(match[2])) if month else None
    number = to_number(cleaned)
    if number is not None:
        return from_serial(number, date1904)
    return None


def to_date(value: Any, date1904: bool = False) -> Any:
    """A ``date`` if the value is one in any accepted form, else the value unchanged."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_serial(float(value), date1904) or value
    if isinstance(value, str):
        return parse_date_text(value, date1904) or value
    return value


def as_text(value: Any) -> str | None:
    """What a text column holds: numbers and dates as people would write them, never empty."""
    if type(value) is str:
        return value.strip() or None
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    result = str(value).strip()
    return result or None


@lru_cache(maxsize=4096)
def _status(label: str) -> str:
    return status_from_label(label) or label


def to_status(value: Any) -> Any:
    """The canonical status code for a label in any language, else the value unchanged.

    Cached: a return repeats a handful of labels over its rows.
    """
    if isinstance(value, str) and len(value) <= 200:
        return _status(value)
    if isinstance(value, str):
        return status_from_label(value) or value
    return value


# --- the schema, from the YAML -----------------------------------------------------------


@dataclass(frozen=True)
class ColumnRule:
    """One column of the contract, as staff wrote it."""

    key: str
    kind: str
    required: bool = False
    max_length: int | None = None
    minimum: Any = None
    maximum: Any = None
    missing: str = "contract.value_missing"
    invalid: str = "contract.value_invalid"
    out_of_range: str = "contract.value_invalid"


@dataclass(frozen=True)
class Contract:
    """The loaded contract: the rules as written and the pandera schema built from them."""

    sheet: str
    template_versions: tuple[str, ...]
    columns: tuple[ColumnRule, ...]
    unique: tuple[str, ...]
    same_as_questionnaire: bool
    warn_if_reordered: bool
    schema: pa.DataFrameSchema = field(repr=False)

    def rule(self, key: str) -> ColumnRule | None:
        return next((c for c in self.columns if c.key == key), None)


def _series(fn: Callable[[Any], Any]) -> Callable[[pd.Series], pd.Series]:
    """A pandera parser applying ``fn`` to each value, the result kept as Python objects.

    Not ``series.map(fn)``: pandas infers a dtype from the results, so ``[1, None, 3]``
    became floats ``[1.0, nan, 3.0]``, and one blank paragraph number made every paragraph
    of the sheet "not a whole number". Building the object array directly is also cheaper.
    """

    def parse(series: pd.Series) -> pd.Series:
        return pd.Series([fn(v) for v in series], index=series.index, dtype=object)

    return parse


def _value_check(test: Callable[..., bool], error: str) -> pa.Check:
    """A check of each value, run over the column at once, blanks passing.

    What ``pa.Check(test, element_wise=True, error=error)`` says, for less: pandera drops the
    blanks (``ignore_na``) then maps ``test`` into a new Series and looks for failures in it,
    for every column of every return, although nearly every column passes. Here a passing
    column answers a plain ``True`` (no Series at all), and only a failing one builds the
    boolean Series pandera turns into failure cases: the same rows and values, since blanks
    (``None``, NaN: what ``pd.isna`` calls missing) pass exactly as if they had been dropped.
    """

    def check(series: pd.Series) -> bool | pd.Series:
        values = series.to_numpy(dtype=object, copy=False)
        if all([v is None or test(v) for v in values]):
            return True
        missing = pd.isna(values)
        return pd.Series(
            [bool(blank) or test(v) for v, blank in zip(values, missing, strict=True)],
            index=series.index,
            dtype=bool,
        )

    return pa.Check(check, error=error, ignore_na=False)


def _column_schema(rule: ColumnRule) -> pa.Column:
    parsers: list[pa.Parser] = []
    checks: list[pa.Check] = []
    if rule.kind == "text":
        if rule.max_length is not None:
            limit = rule.max_length
            checks.append(
                _value_check(
                    lambda v, n=limit: not isinstance(v, str) or len(v) <= n,
                    "contract.text_too_long",
                )
            )
    elif rule.kind == "integer":
        parsers.append(pa.Parser(_series(to_integer)))
        checks.append(_value_check(lambda v: isinstance(v, int), rule.invalid))
        low, high = rule.minimum, rule.maximum
        checks.append(
            _value_check(
                lambda v, lo=low, hi=high: (
                    not isinstance(v, int) or ((lo is None or v >= lo) and (hi is None or v <= hi))
                ),
                rule.out_of_range,
            )
        )
    elif rule.kind == "status":
        from resotrack.questionnaires.i18n import STATUSES

        parsers.append(pa.Parser(_series(to_status)))
        checks.append(pa.Check.isin(list(STATUSES), error=rule.invalid))
    elif rule.kind == "date":
        parsers.append(pa.Parser(_series(to_date)))
        checks.append(_value_check(lambda v: isinstance(v, dt.date), rule.invalid))
        low, high = rule.minimum, rule.maximum
        checks.append(
            _value_check(
                lambda v, lo=low, hi=high: (
                    not isinstance(v, dt.date)
                    or ((lo is None or v >= lo) and (hi is None or v <= hi))
                ),
                rule.out_of_range,
            )
        )
    return pa.Column(None, parsers=parsers, checks=checks, nullable=not rule.required)


def _same_as_questionnaire(frame: pd.DataFrame) -> bool | pd.Series:
    """Each row's paragraph was asked (rows whose key is not readable pass: flagged elsewhere).

    A plain ``True`` when every row passes: pandera then skips building and scanning a
    per-row result (and a whole-frame ``isna``) for the usual return that has no stranger.
    """
    expected = _EXPECTED.get()
    if expected is None or frame.empty:
        return True
    keys = zip(frame["resolution"].tolist(), frame["paragraph"].tolist(), strict=True)
    passed = [not isinstance(p, int) or (r, p) in expected for r, p in keys]
    if all(passed):
        return True
    return pd.Series(passed, index=frame.index)


def _date_value(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def build_contract(spec: Mapping[str, Any]) -> Contract:
    """A :class:`Contract` from the parsed YAML; refuses a contract that would not work."""
    columns: list[ColumnRule] = []
    for key, options in (spec.get("columns") or {}).items():
        options = dict(options or {})
        kind = options.pop("kind", None)
        if kind not in KINDS:
            raise ValueError(f"contract column {key}: kind must be one of {', '.join(KINDS)}")
        bounds = {"min": options.pop("min", None), "max": options.pop("max", None)}
        if kind == "date":
            bounds = {k: _date_value(v) for k, v in bounds.items()}
        names = {"missing", "invalid", "out_of_range"}
        unknown = set(options) - {"required", "max_length"} - names
        if unknown:
            raise ValueError(f"contract column {key}: unknown option(s) {', '.join(unknown)}")
        rule_names = {name: options[name] for name in names if name in options}
        columns.append(
            ColumnRule(
                key=key,
                kind=kind,
                required=bool(options.get("required", False)),
                max_length=options.get("max_length"),
                minimum=bounds["min"],
                maximum=bounds["max"],
                **rule_names,
            )
        )
    keys = tuple(c.key for c in columns)
    expected = tuple(c.key for c in COLUMNS)
    if keys != expected:
        raise ValueError(f"contract columns {keys} differ from the template's {expected}")
    rows = spec.get("rows") or {}
    unique = tuple(rows.get("unique") or ())
    same = bool(rows.get("same_as_questionnaire", True))
    checks = []
    if same:
        checks.append(pa.Check(_same_as_questionnaire, error="contract.paragraph_unexpected"))
    schema = pa.DataFrameSchema(
        {c.key: _column_schema(c) for c in columns},
        checks=checks,
        strict=True,
        ordered=True,
        unique=list(unique) or None,
        report_duplicates="exclude_first",
        name="return_contract",
    )
    return Contract(
        sheet=str(spec.get("sheet") or "Return"),
        template_versions=tuple(str(v) for v in spec.get("template_versions") or ()),
        columns=tuple(columns),
        unique=unique,
        same_as_questionnaire=same,
        warn_if_reordered=bool(rows.get("warn_if_reordered", True)),
        schema=schema,
    )


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Contract:
    return build_contract(yaml.safe_load(path.read_text("utf-8")))


def load_contract(path: Path | None = None) -> Contract:
    """The contract in ``path`` (default: settings), reloaded when the file changes."""
    path = path or contract_path()
    return _load(path, path.stat().st_mtime_ns)


# --- from sheet rows to a frame ----------------------------------------------------------


def _fold_header(value: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(value or "")).casefold()
    decomposed = unicodedata.normalize("NFKD", folded.replace("œ", "oe"))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and c.isalnum())
    return kept


@lru_cache(maxsize=1)
def _header_index() -> dict[str, str]:
    """Folded column title (any language, or the key itself) → column key."""
    index: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column.key, *(text(f"column.{column.key}", lang) for lang in LANGUAGES)):
            index[_fold_header(spelling)] = column.key
    return index


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Sheet:
    """The Return sheet as read, its columns named: a key, or ``"L: title"`` if unknown."""

    names: list[str]
    headers: list[str]
    rows: list[int]  # Excel row number of each data row
    values: list[list[Any]]

    def key_at(self, col: int) -> str | None:
        """The column key at 1-based column number ``col``."""
        if 1 <= col <= len(self.names) and ":" not in self.names[col - 1]:
            return self.names[col - 1]
        return None


def shape_sheet(rows: Sequence[Sequence[Any]]) -> Sheet:
    """Name the columns from the header row and keep the non-empty data rows."""
    width = max((len(r) for r in rows), default=0)
    grid = [list(r) + [None] * (width - len(r)) for r in rows]
    while width and all(_is_empty(r[width - 1]) for r in grid):
        width -= 1
    grid = [r[:width] for r in grid]
    header = grid[0] if grid else []
    index = _header_index()
    names: list[str] = []
    for col, title in enumerate(header, start=1):
        key = index.get(_fold_header(title))
        if key is None or key in names:
            names.append(f"{column_letter(col)}: {as_text(title) or ''}")
        else:
            names.append(key)
    numbers: list[int] = []
    values: list[list[Any]] = []
    for offset, row in enumerate(grid[1:], start=2):
        if all(_is_empty(v) for v in row):
            continue
        numbers.append(offset)
        values.append(row)
    return Sheet(
        names=names, headers=[as_text(h) or "" for h in header], rows=numbers, values=values
    )


# --- the check ---------------------------------------------------------------------------


@dataclass
class ContractResult:
    """The contract's verdict: the parsed frame (index = Excel row) and what is wrong.

    ``structural`` is true when the sheet's shape is wrong (missing sheet or columns): the
    frame cannot be trusted for the quality rules then.
    """

    frame: pd.DataFrame | None
    problems: list[Problem]
    structural: bool = False
    sheet: Sheet | None = None


def _shown(value: Any) -> str:
    shown = as_text(value) or ""
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"


def _prepare(
    sheet: Sheet, contract: Contract, date1904: bool
) -> tuple[pd.DataFrame, list[Problem]]:
    """Raw values by column, with what only the workbook knows applied (date system) and
    invisible control characters removed (a warning, not a refusal: nobody can see them)."""
    problems: list[Problem] = []
    kinds = {c.key: c.kind for c in contract.columns}
    columns: dict[str, list[Any]] = {}
    for col, name in enumerate(sheet.names):
        kind = kinds.get(name, "text")
        raw = [row[col] for row in sheet.values]
        texts = [value for value in raw if type(value) is str]
        # One search over the column ("\n" is not a control character here), then the cells.
        found = bool(texts) and _CONTROL.search("\n".join(texts)) is not None
        for i, value in enumerate(raw if found else ()):
            if type(value) is str and _CONTROL.search(value):
                raw[i] = _CONTROL.sub("", value)
                excel_row = sheet.rows[i]
                problems.append(
                    Problem(
                        "contract.control_characters",
                        severity="warning",
                        row=excel_row,
                        column=name if name in kinds else None,
                        cell=f"{column_letter(col + 1)}{excel_row}",
                    )
                )
        if kind == "text":
            columns[name] = [as_text(v) for v in raw]
        elif kind == "date":
            columns[name] = [None if _is_empty(v) else to_date(v, date1904) for v in raw]
        else:
            columns[name] = [None if _is_empty(v) else v for v in raw]
    frame = pd.DataFrame(columns, index=pd.Index(sheet.rows, name="row"), dtype=object)
    return frame, problems


def _column_problems(
    sheet: Sheet, contract: Contract, errors: SchemaErrors | None
) -> list[Problem]:
    """Missing, unexpected, renamed and moved columns, from pandera's findings."""
    if errors is None:
        return []
    missing: list[str] = []
    unexpected: list[str] = []
    moved: list[str] = []
    for error in errors.schema_errors:
        case = str(error.failure_cases) if error.failure_cases is not None else ""
        if error.reason_code == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
            missing.append(case)
        elif error.reason_code == SchemaErrorReason.COLUMN_NOT_IN_SCHEMA:
            unexpected.append(case)
        elif error.reason_code == SchemaErrorReason.COLUMN_NOT_ORDERED:
            moved.append(case)
    expected = [c.key for c in contract.columns]
    problems: list[Problem] = []
    renamed: set[str] = set()
    for name in unexpected:
        letter = name.split(":", 1)[0]
        col = column_number(letter)
        at = expected[col - 1] if col <= len(expected) else None
        if at in missing:
            renamed.add(at)
            problems.append(
                Problem(
                    "contract.column_renamed",
                    column=at,
                    cell=f"{letter}1",
                    row=1,
                    values={"letter": letter, "found": _shown(sheet.headers[col - 1])},
                )
            )
        else:
            problems.append(
                Problem(
                    "contract.column_unexpected",
                    cell=f"{letter}1",
                    row=1,
                    values={"letter": letter, "found": _shown(sheet.headers[col - 1])},
                )
            )
    for key in missing:
        if key not in renamed:
            problems.append(Problem("contract.column_missing", column=key))
    if not problems:
        for key in dict.fromkeys(moved):
            if key in expected:
                col = sheet.names.index(key) + 1
                problems.append(
                    Problem(
                        "contract.column_order", column=key, row=1, cell=f"{column_letter(col)}1"
                    )
                )
    return problems


_COLUMN_LEVEL: Final = frozenset(
    {"column_in_schema", "column_in_dataframe", "column_ordered", "column_not_in_dataframe"}
)


def _value_problems(
    frame: pd.DataFrame, contract: Contract, errors: SchemaErrors | None
) -> list[Problem]:
    """Cell and row problems, placed by Excel row, paragraph and column."""
    if errors is None:
        return []
    cases = errors.failure_cases
    parsed = errors.data if isinstance(errors.data, pd.DataFrame) else frame
    letters = {name: column_letter(i) for i, name in enumerate(frame.columns, start=1)}
    problems: dict[tuple[str, int | None, str | None], Problem] = {}
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if check in _COLUMN_LEVEL or case.index is None or pd.isna(case.index):
            continue
        row = int(case.index)
        column = case.column if isinstance(case.column, str) else None
        rule_spec = contract.rule(column) if column else None
        if check == "multiple_fields_uniqueness":
            rule, column = "contract.paragraph_duplicated", None
        elif check == "contract.paragraph_unexpected":
            rule, column = check, None
        elif check == "not_nullable" and rule_spec is not None:
            rule = rule_spec.missing
        else:
            rule = check
        if not rule.startswith("contract."):
            rule = "contract.value_invalid"
        values: dict[str, Any] = {"value": _shown(case.failure_case)}
        if rule == "contract.text_too_long" and rule_spec is not None:
            values = {
                "length": f"{len(str(case.failure_case)):,}",
                "max": f"{rule_spec.max_length:,}",
            }
        elif rule_spec is not None and rule == rule_spec.out_of_range:
            values["min"] = _shown(rule_spec.minimum)
            values["max"] = _shown(rule_spec.maximum)
        paragraph = parsed.at[row, "paragraph"] if "paragraph" in parsed.columns else None
        resolution = parsed.at[row, "resolution"] if "resolution" in parsed.columns else None
        key = (rule, row, column)
        if key not in problems:
            problems[key] = Problem(
                rule,
                row=row,
                paragraph=paragraph if isinstance(paragraph, int) else None,
                resolution=resolution if isinstance(resolution, str) else None,
                column=column,
                cell=f"{letters[column]}{row}" if column in letters else None,
                values=values,
            )
    return list(problems.values())


def _sheet_problems(
    sheet: Sheet, merged: Iterable[Sequence[int]], formulas: Iterable[str]
) -> list[Problem]:
    problems = []
    for r0, c0, r1, c1 in merged:
        cells = f"{column_letter(c0 + 1)}{r0 + 1}:{column_letter(c1 + 1)}{r1 + 1}"
        problems.append(
            Problem(
                "contract.merged_cells",
                row=r0 + 1,
                column=sheet.key_at(c0 + 1),
                cell=f"{column_letter(c0 + 1)}{r0 + 1}",
                values={"cells": cells},
            )
        )
    for ref in formulas:
        match = re.fullmatch(r"([A-Za-z]{1,4})(\d+)", ref)
        row = int(match[2]) if match else None
        column = sheet.key_at(column_number(match[1])) if match else None
        problems.append(Problem("contract.formula", row=row, column=column, cell=ref))
    return problems


def _row_problems(
    frame: pd.DataFrame, contract: Contract, sent: Sequence[tuple[str, int]] | None
) -> list[Problem]:
    """Paragraphs sent but absent; rows in another order than sent (a warning)."""
    if sent is None or not contract.same_as_questionnaire:
        return []
    keys = [
        (r, p)
        for r, p in zip(frame["resolution"], frame["paragraph"], strict=True)
        if isinstance(r, str) and isinstance(p, int)
    ]
    present = set(keys)
    problems = [
        Problem("contract.paragraph_missing", resolution=res, paragraph=number)
        for res, number in sent
        if (res, number) not in present
    ]
    if not problems and contract.warn_if_reordered:
        order = {key: i for i, key in enumerate(sent)}
        seen = [order[k] for k in dict.fromkeys(keys) if k in order]
        if seen != sorted(seen):
            problems.append(Problem("contract.rows_reordered", severity="warning"))
    return problems


def check_contract(
    rows: Sequence[Sequence[Any]] | None,
    *,
    sent: Sequence[tuple[str, int]] | None,
    date1904: bool = False,
    merged: Iterable[Sequence[int]] = (),
    formulas: Iterable[str] = (),
    sheet_names: Sequence[str] = (),
    contract: Contract | None = None,
) -> ContractResult:
    """Check the Return sheet's ``rows`` (as read) against the contract.

    ``sent`` lists the questionnaire's paragraphs in the order sent; ``None`` skips the
    comparison (the CLI without a database).
    """
    contract = contract or load_contract()
    if rows is None:
        found = ", ".join(sheet_names) or "—"
        problem = Problem(
            "contract.sheet_missing", values={"sheet": contract.sheet, "found": found}
        )
        return ContractResult(None, [problem], structural=True)
    sheet = shape_sheet(rows)
    frame, problems = _prepare(sheet, contract, date1904)
    problems += _sheet_problems(sheet, merged, formulas)
    token = _EXPECTED.set(frozenset(sent) if sent is not None else None)
    errors: SchemaErrors | None = None
    try:
        parsed = contract.schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        errors = exc
        parsed = exc.data if isinstance(exc.data, pd.DataFrame) else frame
    finally:
        _EXPECTED.reset(token)
    column_problems = _column_problems(sheet, contract, errors)
    problems += column_problems
    structural = any(p.rule != "contract.column_order" for p in column_problems)
    if structural:
        return ContractResult(None, problems, structural=True, sheet=sheet)
    # Every column holds Python objects with None for blanks (built so by _prepare and the
    # parsers), so the frame needs no astype/where pass: that was a tenth of a reader's time.
    problems += _value_problems(parsed, contract, errors)
    problems += _row_problems(parsed, contract, sent)
    return ContractResult(parsed, problems, structural=False, sheet=sheet)


def warm(contract: Contract | None = None) -> None:
    """Run the whole check once on two made-up rows, one good and one bad.

    pandera registers its pandas backends on the first ``validate`` (importing its data
    synthesis strategies, and hypothesis with them: about a second of CPU), and the failure
    path builds its report frames on the first error. A reader process calls this before it
    says "ready", so that no return, and no focal point waiting on the portal, pays for it.
    """
    contract = contract or load_contract()
    header = [c.key for c in contract.columns]
    good: dict[str, Any] = {"resolution": "R", "paragraph": 1, "status": "fully_implemented"}
    bad: dict[str, Any] = {"resolution": "R", "paragraph": "x", "status": "?", "start_date": "0"}
    rows: list[list[Any]] = [header, *([row.get(key) for key in header] for row in (good, bad))]
    check_contract(rows, sent=[("R", 1), ("R", 2)], contract=contract)


# --- in a reader process: read, then check, answer in JSON ----------------------------------


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem as plain JSON (its wording is added by the parent, which knows the rules)."""
    return {
        "rule": problem.rule,
        "severity": problem.severity,
        "row": _plain_int(problem.row),
        "paragraph": _plain_int(problem.paragraph),
        "resolution": problem.resolution,
        "column": problem.column,
        "cell": problem.cell,
        "values": {
            k: v if isinstance(v, str | int | float) else str(v) for k, v in problem.values.items()
        },
    }


def _plain_int(value: Any) -> int | None:
    return None if value is None else int(value)


def check_package(data: bytes, request: Mapping[str, Any]) -> dict[str, Any]:
    """The sandbox op ``check``: the package checks and calamine (``read.read_package``), then
    the contract, so that pandas and pandera only ever see a hostile file's values inside a
    disposable process. The parsed rows come back column by column, JSON-encoded."""
    from resotrack.validation.read import encode_value, inspect_and_read

    answer = inspect_and_read(data, request)
    if not answer.get("ok"):
        return answer
    rows = answer.pop("rows")
    meta = answer["meta_rows"]
    if meta is not None:
        answer["meta_rows"] = [[encode_value(v) for v in row] for row in meta]
    sent = request.get("sent")
    result = check_contract(
        rows,
        sent=[(str(r), int(n)) for r, n in sent] if sent is not None else None,
        date1904=bool(answer["date1904"]),
        merged=answer.pop("merged"),
        formulas=answer["formulas"],
        sheet_names=[s["name"] for s in answer["sheets"]],
    )
    frame = result.frame
    answer["contract"] = {
        "problems": [problem_json(p) for p in result.problems],
        "structural": result.structural,
        "names": result.sheet.names if result.sheet is not None else None,
        "index": [int(i) for i in frame.index] if frame is not None else [],
        "columns": {
            str(name): [encode_value(v) for v in frame[name]]
            for name in frame.columns
            if name not in NOT_SENT_BACK
        }
        if frame is not None
        else None,
    }
    return answer


__all__ = [
    "Contract",
    "ContractResult",
    "Sheet",
    "as_text",
    "check_contract",
    "check_package",
    "from_serial",
    "load_contract",
    "parse_date_text",
    "plain_digits",
    "problem_json",
    "shape_sheet",
    "to_date",
    "to_integer",
    "warm",
]
