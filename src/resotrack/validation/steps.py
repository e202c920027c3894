"""The structural steps shared by the portal's quick check, the CLI and the ingest: read and
contract (both in a sandboxed reader process), then identify (here: the signing key never
enters a process that parses hostile bytes). No Great Expectations, no database writes, and
no pandas in this process: the contract's verdict comes back as plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from resotrack.questionnaires.meta import META_SHEET
from resotrack.questionnaires.workbook import RETURN_SHEET
from resotrack.validation.config import ValidationSettings, settings
from resotrack.validation.identify import Identity, NotIdentified, meta_fields, verify
from resotrack.validation.read import Refusal, decode_rows, decode_value
from resotrack.validation.report import Problem

_LIMITS = (
    "max_file_bytes",
    "max_entries",
    "max_total_uncompressed",
    "max_entry_uncompressed",
    "max_ratio",
    "ratio_floor",
    "max_rows",
    "max_cols",
    "max_sheets",
)

Sent = Sequence[tuple[str, int]]


@dataclass(frozen=True)
class ContractOutcome:
    """The contract's verdict: problems, and the parsed rows by column (Excel row numbers in
    ``index``); ``structural`` when the sheet's shape is wrong (rows then not usable)."""

    problems: list[Problem]
    structural: bool
    names: list[str] | None
    index: list[int]
    columns: dict[str, list[Any]] | None

    @property
    def usable(self) -> bool:
        return self.columns is not None and not self.structural

    def records(self) -> list[dict[str, Any]]:
        """One dict per parsed row, keyed by column."""
        if self.columns is None:
            return []
        keys = ["_row", *self.columns]
        return [
            dict(zip(keys, values, strict=True))
            for values in zip(self.index, *self.columns.values(), strict=True)
        ]


@dataclass(frozen=True)
class Checked:
    """What the sandboxed reader found in one workbook."""

    sheets: list[tuple[str, str]]
    date1904: bool
    dimension: str | None
    formulas: list[str]
    meta_rows: list[list[Any]] | None
    contract: ContractOutcome

    @property
    def sheet_names(self) -> list[str]:
        return [name for name, _ in self.sheets]


def _outcome(raw: dict[str, Any]) -> ContractOutcome:
    columns = raw.get("columns")
    return ContractOutcome(
        problems=[Problem(**p) for p in raw["problems"]],
        structural=bool(raw["structural"]),
        names=raw.get("names"),
        index=list(raw.get("index") or []),
        # Only tagged values (dates, as dicts) need decoding; the test spares 1,600 calls.
        columns={
            k: [decode_value(v) if type(v) is dict else v for v in vs] for k, vs in columns.items()
        }
        if columns is not None
        else None,
    )


def request(sent: Sent | None, conf: ValidationSettings) -> dict[str, Any]:
    """The header of a ``check`` call to the sandbox."""
    return {
        "limits": {name: getattr(conf, name) for name in _LIMITS},
        "return_sheet": RETURN_SHEET,
        "meta_sheet": META_SHEET,
        "sent": [list(key) for key in sent] if sent is not None else None,
    }


def check_workbook(
    data: bytes, sent: Sent | None, conf: ValidationSettings | None = None
) -> Checked:
    """Read and contract-check ``data`` in the sandbox; raise :class:`~.read.Refusal`.

    ``sent`` lists the paragraphs the questionnaire asked (``None``: unknown, not compared).
    """
    from resotrack.validation.sandbox import ReaderLost, shared_sandbox

    conf = conf or settings()
    try:
        answer = shared_sandbox().call("check", data, request(sent, conf))
    except ReaderLost as lost:
        raise Refusal("read.too_slow", detail=lost.reason) from lost
    if not answer.get("ok"):
        raise Refusal(str(answer.get("rule") or "read.damaged"), **(answer.get("values") or {}))
    return Checked(
        sheets=[(s["name"], s["state"]) for s in answer["sheets"]],
        date1904=bool(answer["date1904"]),
        dimension=answer.get("dimension"),
        formulas=list(answer.get("formulas") or []),
        meta_rows=decode_rows(answer.get("meta_rows")),
        contract=_outcome(answer["contract"]),
    )


@dataclass
class Structural:
    """The outcome of read + contract + identify for one workbook."""

    problems: list[Problem] = field(default_factory=list)
    unreadable: bool = False
    checked: Checked | None = None
    identity: Identity | None = None

    @property
    def blocked(self) -> bool:
        return self.unreadable or any(p.severity == "blocker" for p in self.problems)

    @property
    def contract(self) -> ContractOutcome | None:
        return self.checked.contract if self.checked is not None else None


def check_structure(
    data: bytes,
    *,
    key: bytes | Sequence[bytes],
    expected_entity: str | None = None,
    expected_cycle: int | None = None,
    sent: Sent | None = None,
    resolve: Callable[[Identity], Sent | None] | None = None,
    conf: ValidationSettings | None = None,
) -> Structural:
    """Read and check, then identify (signature, template, expected entity and cycle).

    ``sent``: the paragraphs asked, if known before reading; otherwise ``resolve`` may name
    them once the workbook is identified (the contract then runs a second time). Without
    either, the rows are only counted against the signed ``row_count``.
    """
    result = Structural()
    try:
        result.checked = check_workbook(data, sent, conf)
    except Refusal as refusal:
        result.unreadable = True
        result.problems.append(Problem(refusal.rule, values=refusal.values))
        return result
    try:
        identity = verify(meta_fields(result.checked.meta_rows), key)
    except NotIdentified as exc:
        result.problems.append(exc.problem)
        return result
    result.identity = identity
    if expected_entity is not None and identity.entity_code != expected_entity:
        result.problems.append(Problem("identify.wrong_entity", values={"entity": expected_entity}))
        return result
    if expected_cycle is not None and identity.cycle_id != expected_cycle:
        result.problems.append(
            Problem(
                "identify.wrong_cycle",
                values={"found": identity.cycle_id, "expected": expected_cycle},
            )
        )
        return result
    if sent is None and resolve is not None:
        sent = resolve(identity)
        if sent is not None:
            try:
                result.checked = check_workbook(data, sent, conf)
            except Refusal as refusal:  # it was readable a moment ago: a reader failure
                result.unreadable = True
                result.problems.append(Problem(refusal.rule, values=refusal.values))
                return result
    contract = result.checked.contract
    result.problems += contract.problems
    if sent is None and contract.usable and len(contract.index) != identity.row_count:
        result.problems.append(
            Problem(
                "contract.row_count",
                values={"found": len(contract.index), "expected": identity.row_count},
            )
        )
    return result


def verification_keys() -> tuple[bytes, ...]:
    """The keys a returned workbook's signature may use: the current one, then retired ones."""
    from resotrack.settings import get_settings

    return tuple(k.encode("utf-8") for k in get_settings().verification_keys)


__all__ = [
    "Checked",
    "ContractOutcome",
    "Structural",
    "check_structure",
    "check_workbook",
    "verification_keys",
]
