"""Shared fixtures: every database test runs on a real SQLite file and on a real PostgreSQL server.

PostgreSQL comes from ``MS_PRCS_TEST_PG_URL`` (``.ci/run`` sets it); without it, a throwaway cluster is
started when the PostgreSQL binaries are installed, and the PostgreSQL cases are skipped otherwise.
Each test gets an empty schema at Alembic head: SQLite copies a migrated template file, PostgreSQL
truncates every table of one migrated database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ms_prcs.db import make_engine, normalize_url, upgrade

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str | None]:
    url = os.environ.get("MS_PRCS_TEST_PG_URL")
    if url:
        yield url
        return
    from tests import pg_throwaway

    if pg_throwaway.pg_bin() is None or os.environ.get("MS_PRCS_TEST_NO_PG"):
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="ms_prcs_test_pg_"))
    try:
        yield pg_throwaway.start(root)
    finally:
        pg_throwaway.stop(root)


@pytest.fixture(scope="session")
def pg_database(pg_server_url: str | None) -> Iterator[tuple[str, list[str]] | None]:
    """One migrated database for the session, dropped at the end; yields its URL and its table names."""
    if pg_server_url is None:
        yield None
        return
    name = f"ms_prcs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(pg_server_url)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    engine.dispose()
    try:
        yield url, tables
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_database: tuple[str, list[str]] | None,
) -> str:
    """The URL of an empty database at schema head, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "ms_prcs.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_database is None:
        pytest.skip("PostgreSQL not available (set MS_PRCS_TEST_PG_URL or install postgresql)")
    url, tables = pg_database
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A plain session on the test database; the test commits what it wants other connections to see."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


CliInvoke = Callable[..., Result]


@pytest.fixture
def cli(db_url: str) -> CliInvoke:
    """Run ``ms-prcs --db <test db> --user admin ARGS...``; returns click's Result (exit_code, stdout, stderr)."""
    from ms_prcs.cli import main

    def invoke(*args: str, user: str = "admin", input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main, ["--db", db_url, "--user", user, *args], input=input, catch_exceptions=False
        )

    return invoke
