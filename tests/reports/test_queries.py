"""The report SQL files: found as package data, binds checked before a query runs, shipped in the wheel."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
import setuptools  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from ms_prcs.reports import queries
from ms_prcs.reports.scope import ReportScope
from tests.reports import fixture

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = sorted(p.name for p in (ROOT / "sql").glob("[!_]*.sql"))
"""The report queries; ``_*.sql`` files are fragments the queries include."""


def test_every_query_is_found_through_the_package() -> None:
    folder = queries.sql_folder()

    assert sorted(r.name for r in folder.iterdir() if r.name.endswith(".sql")) == [
        "_report_scope.sql",
        *SQL_FILES,
    ]
    assert SQL_FILES == [
        "activity_by_milestone.sql",
        "bottlenecks.sql",
        "impact_by_milestone.sql",
        "status_intervals.sql",
    ]


def test_every_query_includes_the_one_scope_filter() -> None:
    """The scope rule stands in ``_report_scope.sql`` only; each query names it once and gets it whole."""
    fragment = (ROOT / "sql" / "_report_scope.sql").read_text(encoding="utf-8")
    assert "business_unit IN :business_units" in fragment
    for name in SQL_FILES:
        source = (ROOT / "sql" / name).read_text(encoding="utf-8")
        assert source.count("@report_scope(") == 1, name
        assert ":business_units" not in source, name
        loaded = queries.sql_text(name.removesuffix(".sql"))
        assert "@report_scope" not in loaded and "$" not in loaded, name
        assert loaded.count("FROM status_change w") == 1, name


def test_the_scope_binds_are_the_queries_binds() -> None:
    """Every query takes the scope's values; a bind in a comment would be a bind too, so there are none."""
    scope_binds = set(ReportScope(as_of=fixture.AS_OF).params())
    for name in SQL_FILES:
        binds = queries.bind_names(queries.sql_text(name.removesuffix(".sql")))
        assert scope_binds <= binds, name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"top": None}, "binds missing: top; binds unknown: none"),
        ({"top": None, "topp": 5}, "binds missing: top; binds unknown: topp"),
    ],
)
def test_a_misspelt_bind_fails_before_the_query_runs(
    session: Session, change: dict[str, object], message: str
) -> None:
    params = ReportScope(as_of=fixture.AS_OF).params() | {"ready": "Ready", "top": 5}
    params = {k: v for k, v in (params | change).items() if v is not None}

    with pytest.raises(TypeError) as caught:
        queries.run_query(session, "bottlenecks", params)

    assert str(caught.value) == f"report query bottlenecks.sql: {message}"


def test_a_bind_in_a_comment_is_caught() -> None:
    """text() would turn it into a placeholder inside the comment, and the driver would count one bind less."""
    sql = "-- waits since :as_of, see :top\nSELECT 1 WHERE 1 = :one -- not a::text cast\n"

    assert queries.comment_binds(sql) == {":as_of", ":top"}
    assert queries.bind_names(sql) >= {"as_of", "top", "one"}


def test_sql_files_ship_with_the_package() -> None:
    """``pip install .`` builds from pyproject: ``sql`` must be a found package whose data takes ``*.sql``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]

    found = setuptools.find_packages(where=str(ROOT), include=config["packages"]["find"]["include"])

    assert "sql" in found
    patterns = config["package-data"]["sql"]
    assert all(any(fnmatch.fnmatch(name, p) for p in patterns) for name in SQL_FILES)
