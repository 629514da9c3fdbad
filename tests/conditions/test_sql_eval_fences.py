"""The SQL evaluator's fences against real databases: readers never block writers, a write slipped past the
parser hits the read-only guard, and on PostgreSQL the SQL role refuses what is not on the allow-list.

Statements built with :func:`~tests.conditions.sql_eval_db.smuggled` skip the parser on purpose: they show
what the database fence holds by itself.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conditions.sql import SqlConditionFailed, SqlReader, default_role_name, evaluation_query
from conditions.sql_rules import validate_sql
from ms_prcs import sqlrole
from tests.conditions.sql_eval_db import (
    AS_OF,
    CANDIDATES,
    HOLEY,
    RULES,
    SECRET,
    Db,
    contract,
    contract_count,
    met,
    metadata,
    seed,
    smuggled,
    sqlite_engine,
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_reader_does_not_block_writers(db: Db, tmp_path: Path) -> None:
    """While a slow statement runs on the reader, another connection writes with a short busy timeout."""
    with db.engine.begin() as c:
        seed(c)
    slow = (
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)"
        " SELECT 1 FROM contract, cnt WHERE x = 0"
    )
    failures: list[SqlConditionFailed] = []

    def evaluate() -> None:
        with SqlReader(db.engine) as r:
            try:
                r.met(smuggled(slow), CANDIDATES, AS_OF, 3.0)
            except SqlConditionFailed as err:
                failures.append(err)

    thread = threading.Thread(target=evaluate)
    thread.start()
    time.sleep(0.5)
    url = db.engine.url.database
    assert url is not None
    other = sqlite3.connect(url, timeout=0.2)
    other.execute("INSERT INTO contract VALUES ('US009', 'K1', 'ACTIVE', NULL)")
    other.commit()
    other.close()
    assert thread.is_alive()  # the write went through while the statement ran
    thread.join()
    assert failures and failures[0].timed_out


def test_reader_connection_never_returns_to_the_pool_guarded(reader: SqlReader, db: Db) -> None:
    assert met(reader, "WHERE :contract_num = 'K1'") == [10, 30]
    reader.close()
    with db.engine.connect() as conn:
        if db.kind == "sqlite":
            assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 0
            raw: Any = conn.connection.dbapi_connection
            assert raw.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) > 1_000_000
        else:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
            assert conn.scalar(sa.text("SELECT current_user = session_user"))
        conn.execute(contract.insert().values(business_unit="US003", contract_num="K1", status="ACTIVE"))
        conn.commit()
    assert contract_count(db) == 4


# -- the read-only guard and the role ------------------------------------------------------------------------


def test_smuggled_delete_is_refused(reader: SqlReader, db: Db) -> None:
    # Inside EXISTS (...) a DELETE is not even syntax on either database.
    with pytest.raises(SqlConditionFailed, match="syntax error"):
        reader.met(smuggled("DELETE FROM contract"), CANDIDATES, AS_OF, 5)
    assert contract_count(db) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_smuggled_insert_in_cte_is_refused(reader: SqlReader, db: Db) -> None:
    sql = "WITH x AS (INSERT INTO contract VALUES ('XX', 'K0', 'ACTIVE') RETURNING 1) SELECT 1 FROM x"
    with pytest.raises(SqlConditionFailed, match="data-modifying statement must be at the top level"):
        reader.met(smuggled(sql), CANDIDATES, AS_OF, 5)
    assert contract_count(db) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_write_through_a_function_hits_the_read_only_guard(reader: SqlReader, db: Db) -> None:
    """The real hole a validator cannot see: a function that writes, called from a plain SELECT."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            """
            CREATE FUNCTION sneaky_delete() RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM contract; RETURN true; END $$
            """
        )
    statement = validate_sql(
        "WHERE sneaky_delete()", HOLEY
    )  # an operator allow-listed a function that writes
    with pytest.raises(
        SqlConditionFailed, match="read-only guard: cannot execute DELETE in a read-only transaction"
    ):
        reader.met(statement, CANDIDATES, AS_OF, 5)
    assert contract_count(db) == 3


def test_sqlite_write_through_a_function_hits_the_read_only_guard(tmp_path: Path) -> None:
    """SQLite has no stored procedures, but an application-defined function can write on the same
    connection; query_only stops it."""
    engine = sqlite_engine(tmp_path / "w.db", explicit_begin=False)
    errors: list[str] = []

    @sa.event.listens_for(engine, "connect")
    def _sneaky(raw: sqlite3.Connection, _record: Any) -> None:
        def sneaky_delete() -> int:
            try:
                raw.execute("DELETE FROM contract")
            except sqlite3.Error as err:
                errors.append(str(err))
                raise
            return 1

        raw.create_function("sneaky_delete", 0, sneaky_delete)

    metadata.create_all(engine)
    with engine.begin() as c:
        seed(c)
    statement = validate_sql("WHERE sneaky_delete() = 1", HOLEY)
    with SqlReader(engine) as reader, pytest.raises(SqlConditionFailed):
        reader.met(statement, CANDIDATES, AS_OF, 5)
    assert errors and "readonly" in errors[0]
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(contract)) == 3
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM canary WHERE secret IS NOT NULL",
        "SELECT 1 WHERE CAST((SELECT secret FROM canary LIMIT 1) AS int) = 1",
        "SELECT 1 FROM ts_stat('SELECT to_tsvector(''simple'', secret) FROM canary') WHERE word <> ''",
        "SELECT 1 WHERE CAST(query_to_xml('SELECT secret FROM canary', true, false, '') AS text) = ''",
    ],
)
def test_postgres_role_refuses_tables_off_the_allow_list(reader: SqlReader, sql: str) -> None:
    """Past the parser on purpose: the role cannot read ``canary``, so the database refuses the statement,
    and its message carries no data from the table (the cast of the secret to int never happens)."""
    with pytest.raises(SqlConditionFailed) as caught:
        reader.met(smuggled(sql), CANDIDATES, AS_OF, 5)
    assert "permission denied for table canary" in caught.value.reason
    assert SECRET not in str(caught.value)
    assert met(reader, "WHERE :contract_num = 'K2'") == [20]  # allow-listed tables still read


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 FROM pg_authid", "permission denied for table pg_authid"),
        ("SELECT 1 WHERE pg_create_physical_replication_slot('ms_prcs_x', true) IS NOT NULL", "must be superuser or replication role"),
        ("SELECT 1 WHERE pg_stat_reset() IS NULL", "permission denied for function pg_stat_reset"),
        ("SELECT 1 WHERE pg_switch_wal() IS NOT NULL", "permission denied for function pg_switch_wal"),
        ("SELECT 1 WHERE pg_read_file('/etc/passwd') <> ''", "permission denied for function pg_read_file"),
    ],
)  # fmt: skip
def test_postgres_role_and_read_only_refuse_server_functions(
    reader: SqlReader, sql: str, message: str
) -> None:
    with pytest.raises(SqlConditionFailed, match=message):
        reader.met(smuggled(sql), CANDIDATES, AS_OF, 5)


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_without_the_role_nothing_runs(db: Db, reader: SqlReader) -> None:
    """Fail closed: no role, no evaluation, and the message says what to do."""
    refused = pytest.raises(SqlConditionFailed, match=r"SQL role ms_prcs_sql_no_such_role .*ms-prcs init")
    with SqlReader(db.engine, "ms_prcs_sql_no_such_role") as missing, refused:
        missing.met(validate_sql("SELECT 1", RULES), CANDIDATES, AS_OF, 5)
    with db.engine.connect() as conn:
        name = default_role_name(str(conn.scalar(sa.text("SELECT current_database()"))))
    assert SqlReader(db.engine).role == name


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_role_sync_grants_missing_and_revokes_extra(db: Db, reader: SqlReader) -> None:
    role = db.role
    assert role is not None
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"REVOKE SELECT ON contract FROM {role}")
        conn.exec_driver_sql(f"GRANT SELECT, UPDATE ON canary TO {role}")
        conn.exec_driver_sql(f"GRANT INSERT ON contract TO {role}")
        conn.exec_driver_sql(
            f"GRANT CREATE ON SCHEMA {conn.scalar(sa.text('SELECT current_schema()'))} TO {role}"
        )
    with pytest.raises(SqlConditionFailed, match="permission denied for table contract"):
        met(reader, "SELECT 1 FROM contract WHERE contract_num = :contract_num")
    with db.engine.begin() as conn:
        report = sqlrole.sync(conn, RULES.allowed_tables, role)
    schema = report.granted[0].split(" on ")[1].split(".")[0]
    assert report.granted == [f"SELECT on {schema}.contract"]
    assert sorted(report.revoked) == sorted(
        [
            f"CREATE on schema {schema}",
            f"SELECT on {schema}.canary",
            f"UPDATE on {schema}.canary",
            f"INSERT on {schema}.contract",
        ]
    )
    with db.engine.begin() as conn:
        again = sqlrole.sync(conn, RULES.allowed_tables, role)
    assert (again.created, again.granted, again.revoked) == (False, [], [])
    assert met(reader, "SELECT 1 FROM contract WHERE contract_num = :contract_num") == [10, 20, 30]
    with pytest.raises(SqlConditionFailed, match="permission denied for table canary"):
        reader.met(smuggled("SELECT 1 FROM canary"), CANDIDATES, AS_OF, 5)


def test_unsupported_dialect_and_bad_arguments(reader: SqlReader) -> None:
    statement = validate_sql("SELECT 1", RULES)
    with pytest.raises(ValueError, match="supported"):
        evaluation_query(statement, CANDIDATES, AS_OF, "mysql")
    with pytest.raises(ValueError, match="timeout_s"):
        reader.met(statement, CANDIDATES, AS_OF, 0)
