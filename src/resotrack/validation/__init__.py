"""Validation: read a returned workbook safely, identify it, check it, decide, and tell the sender.

Steps, each its own module: ``read`` (package checks, then python-calamine in a sandboxed
process), ``identify`` (the signed ``_meta``), ``contract`` (pandera, from ``schemas/``),
``quality`` (Great Expectations, from ``expectations/``), ``decide`` (answers, report,
feedback email) and ``feedback`` (the annotated copy of the sender's own workbook).

Importing this package is cheap on purpose (the portal and the DAG files import it): the
public names below load their modules, and pandas, pandera or GX, only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resotrack.validation.entry import changed, ingest_pending
    from resotrack.validation.quick import QuickReport, quick_check
    from resotrack.validation.report import Problem

_EXPORTS = {
    "ingest_pending": "resotrack.validation.entry",
    "changed": "resotrack.validation.entry",
    "quick_check": "resotrack.validation.quick",
    "QuickReport": "resotrack.validation.quick",
    "warm_up": "resotrack.validation.quick",
    "Problem": "resotrack.validation.report",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["Problem", "QuickReport", "changed", "ingest_pending", "quick_check", "warm_up"]
