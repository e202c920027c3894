"""The report's charts, drawn with matplotlib's Agg canvas as static SVG and PNG.

Static images print, open in Word and need no script in the page. ``Figure`` objects are used
directly (never ``pyplot``), so nothing global is touched and builds can run in threads.

Every word on a chart comes from the catalog in the build's language. matplotlib draws text
left to right without joining letters unless it was built with libraqm (3.11 and later), so
there Arabic goes as written, and elsewhere it is shaped (arabic-reshaper) and put in visual
order (python-bidi) before it is drawn, in DejaVu Sans, which has the Arabic glyphs. Charts
are honest: nothing is drawn past the build date, the matrix shows the status each entity
reported (no average of categories) for the entities asked only, and "no reply", "not
applicable" and "no information" have colours of their own.
"""

from __future__ import annotations

import io
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.dates import num2date
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from resotrack.catalog import Language, Words
from resotrack.consolidation.labels import COLOURS, NOT_ASKED_COLOUR, status_text
from resotrack.consolidation.synthesis import is_arabic
from resotrack.consolidation.tables import NO_REPLY, NOT_ASKED, STATUS_COLUMNS, Tables

MAX_HEATMAP_INCHES: Final = 30.0
MAX_PNG_PIXELS: Final = 6000  # a very tall matrix gets fewer dots per inch, not a 20k px PNG
FONT: Final = "DejaVu Sans"


@cache
def _lays_out_itself() -> bool:
    """Whether matplotlib's text engine does complex text layout (libraqm)."""
    from matplotlib import ft2font

    return bool(getattr(ft2font, "__libraqm_version__", None))


@dataclass(frozen=True)
class Chart:
    """One chart in both formats (``svg`` empty when only PNG was asked); ``name`` is its
    file stem, ``title`` its caption in the build's language (unshaped: for documents)."""

    name: str
    title: str
    svg: bytes
    png: bytes


def shaped(text: str) -> str:
    """Text as matplotlib must draw it: Arabic joined and in visual order, the rest as is.
    A matplotlib built with libraqm (3.11 and later) joins and orders Arabic itself: shaping
    it first would draw every word backwards, so the text goes as written."""
    if not is_arabic(text) or _lays_out_itself():
        return text
    import arabic_reshaper
    from bidi.algorithm import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def _style() -> AbstractContextManager[Any]:
    """Reproducible SVG ids, one font everywhere, text kept as text in the SVG (so that it
    can be read back, searched and checked)."""
    import matplotlib

    return matplotlib.rc_context(
        {"svg.hashsalt": "resotrack", "font.family": FONT, "svg.fonttype": "none"}
    )


def _render(fig: Figure, name: str, title: str, svg_too: bool, dpi: float = 130) -> Chart:
    FigureCanvasAgg(fig)
    svg, png = io.BytesIO(), io.BytesIO()
    if svg_too:
        fig.savefig(svg, format="svg", metadata={"Date": None})
    height = fig.get_figheight()
    fig.savefig(
        png, format="png", dpi=min(dpi, MAX_PNG_PIXELS / height), metadata={"Software": None}
    )
    return Chart(name, title, svg.getvalue(), png.getvalue())


def _empty(fig: Figure, message: str) -> None:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, shaped(message), ha="center", va="center", fontsize=12, color="#555555")


def section_labels(sections: pd.DataFrame, language: Language) -> list[str]:
    """ "A", "B"...; a resolution without sections has one row, "All paragraphs"; with several
    resolutions "1·A", "2·A" in the cycle's order."""
    w = Words(language, "report")
    symbols = list(dict.fromkeys(sections["resolution"]))
    labels = []
    for symbol, letter in zip(sections["resolution"], sections["section"], strict=True):
        text = str(letter) if letter else w("All paragraphs")
        if len(symbols) > 1:
            text = f"{symbols.index(symbol) + 1}·{text}"
        labels.append(text)
    return labels


def status_matrix(
    matrix: pd.DataFrame, names: dict[str, str], *, language: Language = "en", svg: bool = True
) -> Chart:
    """Entity × paragraph: the status each entity reported, one colour per status.

    ``matrix`` is paragraph × entity (codes, NO_REPLY or NOT_ASKED); only entities asked about
    at least one of its paragraphs are drawn, named in ``language``.
    """
    w = Words(language, "report")
    title = w("Status reported by each entity, paragraph by paragraph")
    asked = [c for c in matrix.columns if (matrix[c] != NOT_ASKED).any()]
    data = matrix[asked].T if len(matrix) else pd.DataFrame()
    codes = [*STATUS_COLUMNS, NOT_ASKED]
    with _style():
        rows, cols = data.shape
        left, right, top, bottom = 2.3, 0.3, 0.7, 1.3
        width = max(6.5, min(left + right + 0.09 * cols, 16.0))
        height = top + bottom + min(0.16 * max(rows, 3), MAX_HEATMAP_INCHES)
        fig = Figure(figsize=(width, height))
        if rows == 0 or cols == 0:
            _empty(fig, w("Nothing was asked in this cycle"))
            return _render(fig, "heatmap", title, svg)
        ax = fig.add_axes(
            (
                left / width,
                bottom / height,
                (width - left - right) / width,
                (height - top - bottom) / height,
            )
        )
        index = {code: i for i, code in enumerate(codes)}
        cells = pd.Categorical(data.to_numpy(dtype=object).ravel(), categories=codes)
        values = np.asarray(cells.codes, dtype="int64").reshape(data.shape)
        values[values < 0] = index[NOT_ASKED]
        cmap = ListedColormap([COLOURS.get(c, NOT_ASKED_COLOUR) for c in codes])
        ax.imshow(
            values,
            cmap=cmap,
            vmin=-0.5,
            vmax=len(codes) - 0.5,
            aspect="auto",
            interpolation="nearest",
        )
        numbers = [int(n) for _symbol, n in data.columns]
        step = max(1, math.ceil(cols / 40))
        ax.set_xticks(range(0, cols, step), [str(n) for n in numbers[::step]], fontsize=6)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.set_xlabel(shaped(w("Operative paragraph")), fontsize=7)
        ystep = max(1, math.ceil(rows / 80))
        ax.set_yticks(
            range(0, rows, ystep),
            [shaped(names.get(str(c), str(c))) for c in data.index[::ystep]],
            fontsize=6,
        )
        ax.tick_params(length=0)
        handles = [
            Patch(facecolor=COLOURS[c], edgecolor="#999999", label=shaped(status_text(c, language)))
            for c in STATUS_COLUMNS
        ]
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=4,
            fontsize=7,
            frameon=False,
            bbox_to_anchor=(0.5, 0.05 / height),
        )
        # A matrix of hundreds of entities is a map to zoom into, not a page to read closely.
        return _render(fig, "heatmap", title, svg, dpi=130 if rows <= 150 else 80)


def known_curve(curve: pd.DataFrame, built_on: date) -> pd.DataFrame:
    """The days of the response curve up to the build date: what is known, nothing after."""
    if curve.empty:
        return curve
    return curve[pd.to_datetime(curve["day"]).dt.date <= built_on]


def response_rate(
    curve: pd.DataFrame,
    deadline: date,
    built_on: date,
    *,
    language: Language = "en",
    svg: bool = True,
) -> Chart:
    """Share of entities that had returned, day by day up to the build date (nothing past it),
    with the deadline marked."""
    w = Words(language, "report")
    title = w("Response rate over the cycle")
    with _style():
        fig = Figure(figsize=(7.0, 3.0), layout="constrained")
        known = known_curve(curve, built_on)
        if known.empty or known["rate"].isna().all():
            _empty(fig, w("No return has been received yet"))
            return _render(fig, "response_rate", title, svg)
        ax = fig.add_subplot()
        days = pd.to_datetime(known["day"])
        rates = known["rate"].to_numpy(dtype="float64") * 100
        ax.fill_between(days, rates, step="post", color="#6A9BD1", alpha=0.35)
        ax.step(days, rates, where="post", color="#0B5394", linewidth=2)
        right = max(pd.Timestamp(deadline), days.max()) + pd.Timedelta(days=2)
        ax.set_xlim(days.min(), right)
        ax.axvline(pd.Timestamp(deadline), color="#C0392B", linestyle="--", linewidth=1.2)
        ax.annotate(
            shaped(w("deadline")),
            (pd.Timestamp(deadline), 100),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            color="#C0392B",
            fontsize=8,
        )
        if pd.Timestamp(built_on) < right:
            ax.axvline(pd.Timestamp(built_on), color="#555555", linestyle=":", linewidth=1)
            ax.annotate(
                shaped(w("date of this report")),
                (pd.Timestamp(built_on), 8),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                color="#555555",
                fontsize=7,
            )
        ax.set_ylim(0, 105)
        ax.set_ylabel(shaped(w("entities that returned (%)")), fontsize=8)
        ax.grid(axis="y", color="#DDDDDD")

        def day(value: float, _pos: int | None) -> str:
            when = num2date(value)  # type: ignore[no-untyped-call]
            return shaped(w.date(when.date(), "d MMM"))

        ax.xaxis.set_major_formatter(FuncFormatter(day))
        ax.tick_params(labelsize=7)
        return _render(fig, "response_rate", title, svg)


def status_by_section(
    sections: pd.DataFrame, *, language: Language = "en", svg: bool = True
) -> Chart:
    """For each section, how the expected answers split by status (no reply included)."""
    w = Words(language, "report")
    title = w("Status of the answers expected, by section")
    with _style():
        n = len(sections)
        fig = Figure(figsize=(7.0, 1.7 + 0.36 * max(n, 2)), layout="constrained")
        if n == 0 or int(sections["cells"].sum()) == 0:
            _empty(fig, w("Nothing was asked in this cycle"))
            return _render(fig, "status_by_section", title, svg)
        ax = fig.add_subplot()
        labels = [shaped(x) for x in section_labels(sections, language)]
        totals = sections["cells"].where(sections["cells"] > 0).to_numpy(dtype="float64")
        left = np.zeros(n)
        positions = np.arange(n)[::-1]
        for code in STATUS_COLUMNS:
            share = np.nan_to_num(sections[code].to_numpy(dtype="float64") / totals * 100)
            ax.barh(
                positions,
                share,
                left=left,
                color=COLOURS[code],
                edgecolor="white",
                linewidth=0.5,
                label=shaped(status_text(code, language)),
            )
            left += share
        ax.set_yticks(positions, labels, fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel(shaped(w("share of the answers expected (%)")), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=7, frameon=False
        )
        return _render(fig, "status_by_section", title, svg)


def all_charts(
    tables: Tables,
    deadline: date,
    *,
    built_on: date,
    names: dict[str, str] | None = None,
    language: Language = "en",
    svg: bool = True,
) -> list[Chart]:
    """The three charts of a report; ``svg=False`` draws PNG only (Word needs nothing else)."""
    return [
        status_matrix(tables.matrix, names or {}, language=language, svg=svg),
        response_rate(tables.curve, deadline, built_on, language=language, svg=svg),
        status_by_section(tables.sections, language=language, svg=svg),
    ]


__all__ = ["NO_REPLY", "Chart", "all_charts", "response_rate", "shaped", "status_by_section"]
