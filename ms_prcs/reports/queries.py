"""Loading and running the report SQL of the top-level ``sql`` package.

The queries are ``.sql`` files so that people who know SQL can read and tune them without reading Python.
They are shipped as package data and found with :mod:`importlib.resources`, so they load the same from a
source tree and from an installed wheel. Values only ever travel as bind parameters; before a query runs,
its binds are checked against the values given, so a misspelt parameter fails loudly instead of quietly
binding nothing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

SQL_PACKAGE = "sql"

# SQLAlchemy's own rule for what counts as a bind in text(): ``:name``, but not ``::cast`` or ``\:``.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


SOURCE_TREE_SQL = Path(__file__).resolve().parents[2] / SQL_PACKAGE
"""Where the files are in a checkout: an editable install made before ``sql`` became a package cannot
import it (its finder lists the packages of that time), and the reports should still work there."""


def sql_folder() -> Traversable:
    try:
        return resources.files(SQL_PACKAGE)
    except ModuleNotFoundError:
        return SOURCE_TREE_SQL


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``, with the shared report scope (``sql/_report_scope.sql``) put in
    where it says ``@report_scope(contract_alias, milestone_alias)``: the scope rule is written once."""
    return _REPORT_SCOPE.sub(lambda m: _report_scope(m.group(1), m.group(2)), _read(name))


def _read(name: str) -> str:
    resource = sql_folder().joinpath(f"{name}.sql")
    if not resource.is_file():
        raise FileNotFoundError(f"report query {name}.sql is not in the {SQL_PACKAGE!r} package")
    sql = resource.read_text(encoding="utf-8")
    in_comments = comment_binds(sql)
    if in_comments:
        # text() would turn them into placeholders inside the comment: the driver then counts one bind
        # fewer than it is given, a confusing error far from the cause.
        raise ValueError(f"report query {name}.sql: a comment names {', '.join(sorted(in_comments))}")
    return sql


_REPORT_SCOPE = re.compile(r"@report_scope\((\w+), *(\w+)\)")


def _report_scope(contract: str, milestone: str) -> str:
    """The scope filter over the given aliases of ``contract`` and ``milestone``, without its comments."""
    fragment = "\n".join(
        line for line in _read("_report_scope").splitlines() if not line.lstrip().startswith("--")
    )
    return "(" + string.Template(fragment).substitute(contract=contract, milestone=milestone) + ")"


def comment_binds(sql: str) -> frozenset[str]:
    """``:name`` written in a ``--`` comment, where SQLAlchemy would still take it for a bind."""
    return frozenset(
        f":{name}"
        for line in sql.splitlines()
        if "--" in line
        for name in _BIND.findall(line.split("--", 1)[1])
    )


def bind_names(sql: str) -> frozenset[str]:
    return frozenset(_BIND.findall(sql))


def run_query(
    session: Session,
    name: str,
    params: Mapping[str, Any],
    *,
    binds: Sequence[BindParameter[Any]] = (),
    columns: Mapping[str, TypeEngine[Any]] | None = None,
) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` with ``params`` and return its rows as a DataFrame (columns as in the SELECT).

    ``binds`` give types to bind parameters (dates, expanding lists) and ``columns`` to result columns, so
    SQLite's text dates and float sums come back as ``datetime`` and ``Decimal`` like PostgreSQL's. Binds
    typed here but not used by the query are ignored: callers can pass one shared set.
    """
    sql = sql_text(name)
    expected = bind_names(sql)
    if set(params) != expected:
        missing = ", ".join(sorted(expected - set(params))) or "none"
        unknown = ", ".join(sorted(set(params) - expected)) or "none"
        raise TypeError(f"report query {name}.sql: binds missing: {missing}; binds unknown: {unknown}")
    statement = text(sql).bindparams(*(b for b in binds if b.key in expected))
    result = session.execute(statement.columns(**(columns or {})), dict(params))
    return pd.DataFrame.from_records([tuple(row) for row in result], columns=list(result.keys()))
