"""Printing a report: an aligned table for people, CSV and JSON for programs, one HTML file for a browser.

The HTML page is self-contained, so that it can be mailed or opened from disk with no server: the style is
inline and the chart is a PNG drawn by matplotlib's Agg canvas (no display, no pyplot global state, safe in
the scheduler's threads) and embedded as a ``data:`` URI.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ms_prcs.reports.formats import FORMATS
from ms_prcs.reports.plain import jsonable, text_table
from ms_prcs.reports.scope import ChartSpec, Report, ReportTable


def render(report: Report, fmt: str) -> str:
    """``report`` in format ``fmt`` (one of :data:`FORMATS`), as text ending in a newline."""
    renderers: dict[str, Callable[[Report], str]] = {
        "table": render_table,
        "csv": render_csv,
        "json": render_json,
        "html": render_html,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


def describe_scope(report: Report) -> str:
    scope = report.scope
    units = ", ".join(scope.business_units) or "all"
    window = ""
    if scope.windowed:
        window = f"; milestones with a status change from {scope.date_from or '(start)'} to {scope.date_to or '(end)'}"
    return f"as of {scope.as_of}; business units: {units}{window}"


# --- table ----------------------------------------------------------------------------------------------


def render_table(report: Report) -> str:
    parts = [report.title, describe_scope(report), ""]
    for table in report.tables():
        parts += [table.title, _text_table(table.frame), ""]
    parts.append("Totals: " + totals_text(report.totals()))
    return "\n".join(parts) + "\n"


def _text_table(frame: pd.DataFrame) -> str:
    """Columns padded to their widest cell: numbers to the right, everything else to the left."""
    rows = list(frame.itertuples(index=False))
    cells = [[_plain(v) for v in row] for row in rows]
    right = [
        any(_numeric(row[i]) for row in rows)
        and all(_numeric(row[i]) or not cell[i] for row, cell in zip(rows, cells, strict=True))
        for i in range(len(frame.columns))
    ]
    return text_table([str(c) for c in frame.columns], cells, right)


def _plain(value: Any) -> str:
    """A cell for people: no 'nan' or 'NaT', dates without a midnight, days to two places, yes for true."""
    value = _jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def totals_text(totals: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {_plain(v)}" for k, v in totals.items())


# --- csv and json ---------------------------------------------------------------------------------------


def render_csv(report: Report) -> str:
    """The main table only (one header row, one row per line of the table); JSON holds every table."""
    main = report.tables()[0]
    return str(main.frame.map(_csv_cell).to_csv(index=False, lineterminator="\n"))


def _csv_cell(value: Any) -> Any:
    value = _jsonable(value)
    return "" if value is None else value


def render_json(report: Report) -> str:
    document = {
        "report": report.name,
        "title": report.title,
        "scope": report.scope.describe(),
        "totals": {k: _jsonable(v) for k, v in report.totals().items()},
        "tables": {table.name: _records(table) for table in report.tables()},
    }
    return json.dumps(document, indent=2) + "\n"


def _records(table: ReportTable) -> list[dict[str, Any]]:
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in table.frame.to_dict(orient="records")]


def _jsonable(value: Any) -> Any:
    """A report's cell as plain Python (see :func:`~ms_prcs.reports.plain.jsonable`), datetimes with a space."""
    return jsonable(value, datetime_sep=" ")


# --- html -----------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; } p.scope { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f0f0; } td.num { text-align: right; }
img { max-width: 100%; }
"""


def render_html(report: Report) -> str:
    title = html.escape(report.title)
    body = [
        f"<h1>{title}</h1>",
        f'<p class="scope">{html.escape(describe_scope(report))}</p>',
        f'<img src="data:image/png;base64,{chart_png_base64(report.chart())}" alt="{html.escape(report.chart().title)}">',
    ]
    for table in report.tables():
        body += [f"<h2>{html.escape(table.title)}</h2>", _html_table(table.frame)]
    totals = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_plain(v))}</td></tr>"
        for k, v in report.totals().items()
    )
    body += ["<h2>Totals</h2>", f'<table class="totals">{totals}</table>']
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="num">{html.escape(_plain(v))}</td>'
            if _numeric(v)
            else f"<td>{html.escape(_plain(v))}</td>"
            for v in record
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _numeric(value: Any) -> bool:
    """Numbers align right in HTML; booleans are flags, not numbers."""
    plain = _jsonable(value)
    return isinstance(value, Decimal) or (isinstance(plain, int | float) and not isinstance(plain, bool))


def chart_png_base64(chart: ChartSpec) -> str:
    """The chart as a base64 PNG: grouped (or stacked) bars, one colour per series, a legend."""
    figure = Figure(figsize=(8, 4), dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.set_title(chart.title)
    axes.set_ylabel(chart.ylabel)
    if not chart.categories or not chart.series:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        positions = list(range(len(chart.categories)))
        width = 0.8 if chart.stacked else 0.8 / len(chart.series)
        bottoms = [0.0] * len(positions)
        for i, (label, values) in enumerate(chart.series):
            if chart.stacked:
                axes.bar(positions, values, width, bottom=bottoms, label=label)
                bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
            else:
                offset = (i - (len(chart.series) - 1) / 2) * width
                axes.bar([p + offset for p in positions], values, width, label=label)
        axes.set_xticks(
            positions,
            chart.categories,
            rotation=30 if len(positions) > 6 else 0,
            ha="right" if len(positions) > 6 else "center",
        )
        if chart.counts:
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
