"""The report's charts, drawn with matplotlib's Agg canvas as static SVG and PNG.

Static images print, open in Word and need no script in the page. ``Figure`` objects are used
directly (never ``pyplot``), so nothing global is touched and builds can run in threads.
"""

from __future__ import annotations

import io
import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from resotrack.catalog import Language
from resotrack.consolidation.labels import CHART_TEXT, COLOURS, chart_language, status_text
from resotrack.consolidation.tables import STATUS_COLUMNS, Tables

MAX_HEATMAP_INCHES: Final = 30.0
MAX_PNG_PIXELS: Final = 6000  # a very tall heat map gets fewer dots per inch, not a 20k px PNG


@dataclass(frozen=True)
class Chart:
    """One chart in both formats (``svg`` empty when only PNG was asked); ``name`` is its
    file stem."""

    name: str
    title: str
    svg: bytes
    png: bytes


def _style() -> AbstractContextManager[Any]:
    """Reproducible SVG ids and one font everywhere (the same charts on every server)."""
    import matplotlib

    return matplotlib.rc_context({"svg.hashsalt": "resotrack", "font.family": "DejaVu Sans"})


def _render(fig: Figure, name: str, title: str, svg_too: bool, dpi: float = 110) -> Chart:
    FigureCanvasAgg(fig)
    svg, png = io.BytesIO(), io.BytesIO()
    if svg_too:
        fig.savefig(svg, format="svg", metadata={"Date": None})
    height = fig.get_figheight()
    fig.savefig(
        png, format="png", dpi=min(dpi, MAX_PNG_PIXELS / height), metadata={"Software": None}
    )
    return Chart(name, title, svg.getvalue(), png.getvalue())


def _section_labels(columns: pd.Index | pd.MultiIndex) -> list[str]:
    """ "A", "B"...; with several resolutions "R1·A", "R2·A" in the cycle's order."""
    pairs = list(columns)
    symbols = list(dict.fromkeys(symbol for symbol, _ in pairs))
    if len(symbols) <= 1:
        return [str(section) or "–" for _, section in pairs]
    return [f"R{symbols.index(symbol) + 1}·{section or '–'}" for symbol, section in pairs]


def _empty(fig: Figure, message: str) -> None:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")


def heatmap(heat: pd.DataFrame, *, language: Language = "en", svg: bool = True) -> Chart:
    """Entity × section progress score; grey where nothing says how far things are."""
    text = CHART_TEXT[chart_language(language)]
    title = text["heatmap"]
    with _style():
        rows, cols = heat.shape
        # Fixed margins (inches) instead of a layout engine: a tall heat map stays cheap.
        left, right, top, bottom = 0.8, 1.4, 0.85, 0.3
        width = max(5.0, left + right + 0.75 * cols)
        # Beyond ~150 entities the rows get thinner rather than the page taller.
        height = top + bottom + min(0.2 * max(rows, 3), MAX_HEATMAP_INCHES)
        fig = Figure(figsize=(width, height))
        if rows == 0 or cols == 0:
            _empty(fig, text["nothing"])
            return _render(fig, "heatmap", title, svg)
        plot_w = (width - left - right) / width
        ax = fig.add_axes((left / width, bottom / height, plot_w, (height - top - bottom) / height))
        bar_h = min(3.5, height - top - bottom) / height
        bar_ax = fig.add_axes(
            ((left + 0.15) / width + plot_w, 1 - top / height - bar_h, 0.18 / width, bar_h)
        )
        cmap = colormaps["RdYlGn"].with_extremes(bad="#D9D9D9")
        matrix = heat.to_numpy(dtype="float64")
        image = ax.imshow(
            np.ma.masked_invalid(matrix),
            cmap=cmap,
            vmin=0,
            vmax=1,
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_xticks(range(cols), _section_labels(heat.columns), fontsize=8)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        step = max(1, math.ceil(rows / 150))
        ax.set_yticks(range(0, rows, step), [str(i) for i in heat.index[::step]], fontsize=7)
        ax.set_xlabel(text["section"], fontsize=8)
        ax.set_ylabel(text["entity"], fontsize=8)
        if rows * cols <= 1200:
            for (r, c), value in np.ndenumerate(matrix):
                if not np.isnan(value):
                    ax.text(
                        c, r, f"{value:.0%}", ha="center", va="center", fontsize=6, color="#1A1A1A"
                    )
        bar = fig.colorbar(image, cax=bar_ax)
        bar.set_label(text["heatmap.bar"], fontsize=6)
        bar.ax.tick_params(labelsize=7)
        fig.suptitle(title, fontsize=10, y=1 - 0.12 / height, va="top")
        return _render(fig, "heatmap", title, svg)


def response_rate(
    curve: pd.DataFrame, deadline: date, *, language: Language = "en", svg: bool = True
) -> Chart:
    """Share of entities that had returned, day by day, with the deadline marked."""
    text = CHART_TEXT[chart_language(language)]
    title = text["rate"]
    with _style():
        fig = Figure(figsize=(7.5, 3.4), layout="constrained")
        if curve.empty or curve["rate"].isna().all():
            _empty(fig, text["nothing"])
            return _render(fig, "response_rate", title, svg)
        ax = fig.add_subplot()
        days = pd.to_datetime(curve["day"])
        rates = curve["rate"].to_numpy(dtype="float64") * 100
        ax.fill_between(days, rates, step="post", color="#6A9BD1", alpha=0.35)
        ax.step(days, rates, where="post", color="#0B5394", linewidth=2)
        ax.axvline(pd.Timestamp(deadline), color="#C0392B", linestyle="--", linewidth=1.2)
        ax.annotate(
            text["deadline"],
            (pd.Timestamp(deadline), 100),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            color="#C0392B",
            fontsize=8,
        )
        ax.set_ylim(0, 105)
        ax.set_ylabel(text["rate.axis"])
        ax.grid(axis="y", color="#DDDDDD")
        ax.set_title(title, fontsize=10)
        fig.autofmt_xdate()
        return _render(fig, "response_rate", title, svg)


def status_by_section(
    sections: pd.DataFrame,
    *,
    language: Language = "en",
    svg: bool = True,
) -> Chart:
    """For each section, how the expected answers split by status (no reply included)."""
    language = chart_language(language)
    text = CHART_TEXT[language]
    title = text["sections"]
    with _style():
        n = len(sections)
        fig = Figure(figsize=(7.5, 1.9 + 0.42 * max(n, 2)), layout="constrained")
        if n == 0 or int(sections["cells"].sum()) == 0:
            _empty(fig, text["nothing"])
            return _render(fig, "status_by_section", title, svg)
        ax = fig.add_subplot()
        labels = _section_labels(pd.MultiIndex.from_frame(sections[["resolution", "section"]]))
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
                label=status_text(code, language),
            )
            left += share
        ax.set_yticks(positions, labels, fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel(text["sections.axis"])
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, fontsize=7, frameon=False
        )
        ax.set_title(title, fontsize=10)
        return _render(fig, "status_by_section", title, svg)


def all_charts(
    tables: Tables, deadline: date, *, language: Language = "en", svg: bool = True
) -> list[Chart]:
    """The three charts of a report; ``svg=False`` draws PNG only (Word needs nothing else)."""
    return [
        heatmap(tables.heat, language=language, svg=svg),
        response_rate(tables.curve, deadline, language=language, svg=svg),
        status_by_section(tables.sections, language=language, svg=svg),
    ]
