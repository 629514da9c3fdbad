"""Printing: aligned tables for people, JSON for programs; one place decides which."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

import click

from ms_prcs.cli.context import AppContext


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def print_json(data: Any) -> None:
    click.echo(json.dumps(to_jsonable(data), indent=2, sort_keys=False))


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(none)"
    cols = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([line, rule, *body])


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
