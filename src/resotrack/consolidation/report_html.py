"""The HTML report: one self-contained page (charts inlined as SVG) that prints as it shows.

Everything is escaped by jinja2's autoescape: returns are untrusted text. The page carries no
script, so it can be opened from an email, a file share or the dashboard alike.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from resotrack.catalog import RTL, Language, Words
from resotrack.consolidation.charts import Chart
from resotrack.consolidation.export_xlsx import ADDRESSEES, BuildInfo
from resotrack.consolidation.labels import COLOURS, INK, kind_text, legend, status_text
from resotrack.consolidation.tables import STATUS_COLUMNS, Tables
from resotrack.registry.grammar import display_name


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("resotrack.consolidation", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["when"] = _when
    return env


def _pct(value: Any, w: Words | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return w.percent(float(value)) if w is not None else f"{float(value):.0%}"


def _when(value: Any, w: Words | None = None) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if w is not None:
        return w.date(pd.Timestamp(value).date(), "medium")
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def data_uri(chart: Chart) -> str:
    """The SVG as a ``data:`` URI: the page stays one file and prints sharp."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg).decode("ascii")


def render_html(
    tables: Tables, charts: Sequence[Chart], info: BuildInfo, *, language: Language = "en"
) -> bytes:
    """The report page, UTF-8, every word in ``language``."""
    w = Words(language, "report")
    entities = tables.entities.copy()
    column = {"fr": "name_fr", "ar": "name_ar"}.get(language, "name_en")
    entities["name"] = [display_name(str(n)) for n in entities[column].fillna(entities["name_en"])]
    entities["kind"] = [kind_text(str(k), language) for k in entities["kind"]]
    missing = entities[~entities["returned"]]
    addressees = tables.addressees.copy()
    addressees["addressee"] = [
        w(ADDRESSEES.get(str(c), "Nobody named")) for c in addressees["addressee"]
    ]
    paragraphs = tables.paragraphs[tables.paragraphs["asked"] > 0].copy()
    paragraphs["addressees"] = [
        ", ".join(w(ADDRESSEES.get(c, "Nobody named")) for c in str(a).split(",") if c)
        for a in paragraphs["addressees"]
    ]
    context = {
        "w": w,
        "lang": language,
        "dir": "rtl" if language in RTL else "ltr",
        "info": info,
        "deadline": w.date(info.deadline, "long"),
        "built": w.date(info.built_at.date(), "long"),
        "summary": tables.summary,
        "pct": lambda v: _pct(v, w),
        "when": lambda v: _when(v, w),
        "charts": [{"title": c.title, "name": c.name, "src": data_uri(c)} for c in charts],
        "legend": legend(language),
        "ink": INK,
        "colours": COLOURS,
        "statuses": [(code, status_text(code, language)) for code in STATUS_COLUMNS],
        "sections": _records(tables.sections),
        "addressees": _records(addressees),
        "entities": _records(entities),
        "paragraphs": _records(paragraphs),
        "missing": _records(missing[["entity", "name"]]),
    }
    return environment().get_template("report.html").render(context).encode("utf-8")
