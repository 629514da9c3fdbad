"""Printing: aligned tables for people, JSON for programs; one place decides which."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from ms_prcs.cli.context import AppContext
from ms_prcs.reports.plain import jsonable, text_table


def to_jsonable(value: Any) -> Any:
    """Plain Python for JSON, as the reports convert it (:func:`ms_prcs.reports.plain.jsonable`)."""
    return jsonable(value)


def print_json(data: Any) -> None:
    click.echo(json.dumps(to_jsonable(data), indent=2, sort_keys=False))


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    return text_table(cols, [[_cell(r.get(c)) for c in cols] for r in rows])


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    return "" if value is None else str(value)


def emit(
    app: AppContext, data: Any, rows: Sequence[Mapping[str, Any]] | None = None, title: str = ""
) -> None:
    """Print ``data`` as JSON with ``--json``; otherwise ``rows`` (default: data itself) as a table."""
    if app.json_output:
        print_json(data)
        return
    if title:
        click.echo(title)
    click.echo(format_table(rows if rows is not None else data))


def emit_fields(app: AppContext, data: Mapping[str, Any]) -> None:
    """A single object: ``name: value`` lines for people, a JSON object for programs."""
    if app.json_output:
        print_json(data)
        return
    width = max((len(k) for k in data), default=0)
    for k, v in data.items():
        if isinstance(v, list | dict):
            continue
        click.echo(f"{k.ljust(width)}  {_cell(v)}".rstrip())
