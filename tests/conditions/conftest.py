"""The SQL evaluator's databases: an SQLite file (with the driver's transactions and with explicit BEGIN) and
a fresh schema with a SQL role of its own on the test run's PostgreSQL server."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conditions.sql import SqlReader
from ms_prcs import sqlrole
from ms_prcs.db import normalize_url
from tests.conditions.sql_eval_db import RULES, Db, metadata, seed, sqlite_engine


@pytest.fixture(
    params=[
        "sqlite",
        "sqlite-explicit-begin",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path, pg_server_url: str | None) -> Iterator[Db]:
    if request.param.startswith("sqlite"):
        path = tmp_path / "ms_prcs.db"
        with sqlite3.connect(path) as raw:  # WAL, as ms_prcs.db.make_engine sets: readers never block writers
            raw.execute("PRAGMA journal_mode = WAL")
        raw.close()
        engine = sqlite_engine(path, request.param == "sqlite-explicit-begin")
        metadata.create_all(engine)
        yield Db(engine, "sqlite")
        engine.dispose()
        return
    if pg_server_url is None:
        pytest.skip("PostgreSQL not available (set MS_PRCS_TEST_PG_URL or install postgresql)")
    pg_url = normalize_url(pg_server_url)
    schema = f"ms_prcs_test_{uuid.uuid4().hex[:12]}"
    role = f"ms_prcs_sql_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = sa.create_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            sqlrole.sync(conn, RULES.allowed_tables, role)
        yield Db(engine, "postgresql", role)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


@pytest.fixture
def reader(db: Db) -> Iterator[SqlReader]:
    with db.engine.begin() as c:
        seed(c)
    with SqlReader(db.engine, db.role) as r:
        yield r
