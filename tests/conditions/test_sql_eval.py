"""The SQL condition evaluator against real databases: an SQLite file, and the test run's PostgreSQL server
(``pg_server_url`` in conftest.py; each test gets a fresh schema, and a SQL role of its own for it).

The tables here are the test's own, not the project's models, so the evaluator is tested on its contract
alone: candidates in, met condition ids out, nothing written, on a connection of its own (DESIGN §13).
Statements built with :func:`_smuggled` skip the parser on purpose: they show what the database fence
and the time limits hold by themselves.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conditions.sql import (
    SQLITE_MAX_EXPR_DEPTH,
    Candidate,
    SqlConditionFailed,
    SqlReader,
    default_role_name,
    evaluation_query,
)
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql
from ms_prcs import sqlrole
from ms_prcs.db import normalize_url

AS_OF = datetime.date(2024, 3, 31)

metadata = sa.MetaData()
contract = sa.Table(
    "contract",
    metadata,
    sa.Column("business_unit", sa.String(5), primary_key=True),
    sa.Column("contract_num", sa.String(25), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("start_date", sa.Date),
)
canary = sa.Table("canary", metadata, sa.Column("secret", sa.Text))
SECRET = "s3cr3t-canary-value"
CANDIDATES: list[Candidate] = [
    (10, "US001", "K1", "MS001", 1),
    (20, "US001", "K2", "MS001", 2),
    (30, "FR001", "K1", "MS002", 1),
]
RULES = SqlRules(allowed_tables=frozenset({"contract"}))
# The evaluator is the second fence and must hold when the first lets something through: an operator who
# allow-lists a function that writes.
HOLEY = SqlRules(
    allowed_tables=RULES.allowed_tables, allowed_functions=RULES.allowed_functions | {"sneaky_delete"}
)


@dataclass
class Db:
    engine: sa.Engine
    kind: str  # "sqlite" or "postgresql"
    role: str | None = None


def _sqlite_engine(path: Path, explicit_begin: bool) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    if explicit_begin:
        # SQLAlchemy's recommended pysqlite setup for real SAVEPOINT semantics; the evaluator must work
        # with it and with the driver's default transaction handling alike.
        @sa.event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine


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
        engine = _sqlite_engine(path, request.param == "sqlite-explicit-begin")
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


def _seed(conn: sa.Connection) -> None:
    conn.execute(
        contract.insert(),
        [
            {"business_unit": "US001", "contract_num": "K1", "status": "ACTIVE", "start_date": datetime.date(2024, 1, 15)},
            {"business_unit": "US001", "contract_num": "K2", "status": "PENDING", "start_date": datetime.date(2024, 6, 1)},
            {"business_unit": "FR001", "contract_num": "K1", "status": "PENDING", "start_date": None},
        ],
    )  # fmt: skip
    conn.execute(canary.insert(), [{"secret": SECRET}])


@pytest.fixture
def reader(db: Db) -> Iterator[SqlReader]:
    with db.engine.begin() as c:
        _seed(c)
    with SqlReader(db.engine, db.role) as r:
        yield r


def _met(reader: SqlReader, sql: str, as_of: datetime.date = AS_OF, timeout_s: float = 5.0) -> list[int]:
    return reader.met(validate_sql(sql, RULES), CANDIDATES, as_of, timeout_s)


def _smuggled(sql: str) -> ValidatedSql:
    """A statement that never went through validate_sql, as if the validator had a hole."""
    return ValidatedSql(source=sql, normalized=sql, binds=frozenset(), dialect="postgres")


def _contract_count(db: Db) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(contract)).scalar_one())


# -- results --------------------------------------------------------------------------------------------


def test_binds_are_joined_per_candidate(reader: SqlReader) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num AND c.status = 'ACTIVE'
    """
    assert _met(reader, sql) == [10]  # same contract_num K1 in FR001 is PENDING: business_unit is joined too


def test_milestone_binds_and_bare_where(reader: SqlReader) -> None:
    assert _met(reader, "WHERE :milestone_id = 'MS001' AND :milestone_num = 2") == [20]
    assert _met(reader, "WHERE upper(:business_unit) LIKE 'US%'") == [10, 20]


def test_as_of_date_is_a_real_bind(reader: SqlReader, db: Db) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num
          AND c.start_date <= :as_of_date
    """
    assert _met(reader, sql, datetime.date(2023, 12, 31)) == []
    assert _met(reader, sql, datetime.date(2024, 1, 15)) == [10]  # inclusive
    assert _met(reader, sql, datetime.date(2024, 6, 1)) == [10, 20]
    query = evaluation_query(validate_sql(sql, RULES), CANDIDATES, AS_OF, db.kind)
    compiled = query.compile(db.engine)
    assert compiled.params["ms_prcs_as_of_date"] == AS_OF
    assert "2024-03-31" not in str(compiled)
    assert "US001" not in str(compiled)  # the candidates are bound values too


def test_no_candidates_means_nothing_met(reader: SqlReader) -> None:
    statement = validate_sql("SELECT 1", RULES)
    assert reader.met(statement, [], AS_OF, 5) == []
    assert reader.met(statement, CANDIDATES, AS_OF, 5) == [10, 20, 30]


def test_many_candidates_on_sqlite_go_in_batches_under_the_length_limit(reader: SqlReader) -> None:
    """20,000 candidates with long keys are several megabytes of JSON: more than SQLite's 1 MB limit on
    one value, so they go in batches, and every one of them is answered."""
    many = [(n, "US001", f"K{n:0>24}", f"MS{n % 7:0>8}", n % 3) for n in range(1, 20_001)]
    statement = validate_sql("WHERE :milestone_num = 1", RULES)
    assert reader.met(statement, many, AS_OF, 30) == [c[0] for c in many if c[4] == 1]


def test_colons_and_percents_in_the_users_sql_stay_literal(reader: SqlReader) -> None:
    sql = """
        SELECT 1 FROM contract c  -- a comment with :not_a_bind
        WHERE c.contract_num = :contract_num AND c.business_unit = :business_unit
          AND '10:30 :x' LIKE '%:%' AND upper(c.status) LIKE 'ACT%'
    """
    assert _met(reader, sql) == [10]


def test_unqualified_columns_do_not_correlate_to_candidates(reader: SqlReader) -> None:
    # contract has no milestone_id column; it must be an error, not the candidate's milestone_id.
    with pytest.raises(SqlConditionFailed, match="milestone_id"):
        _met(reader, "SELECT 1 FROM contract WHERE milestone_id = 'MS001'")


# -- failures ----------------------------------------------------------------------------------------------


def test_runtime_error_raises_and_the_reader_goes_on(reader: SqlReader) -> None:
    with pytest.raises(SqlConditionFailed) as caught:
        _met(reader, "SELECT 1 FROM contract WHERE no_such_column = 1")
    assert "no_such_column" in caught.value.reason
    assert not caught.value.timed_out
    assert caught.value.source == "SELECT 1 FROM contract WHERE no_such_column = 1"
    assert _met(reader, "WHERE :contract_num = 'K2'") == [20]


def test_division_by_zero_on_some_rows(reader: SqlReader, db: Db) -> None:
    # The SQL rules refuse this at Ready (the verdicts differ); here it is smuggled past them.
    sql = "SELECT 1 FROM contract c WHERE c.contract_num = :contract_num AND 1 / 0 = 1"
    statement = ValidatedSql(sql, sql, frozenset({"contract_num"}))
    if db.kind == "sqlite":
        assert reader.met(statement, CANDIDATES, AS_OF, 5) == []  # SQLite's 1/0 is NULL, not an error
    else:
        with pytest.raises(SqlConditionFailed, match="division by zero"):
            reader.met(statement, CANDIDATES, AS_OF, 5)
        assert _met(reader, "WHERE :contract_num = 'K1'") == [10, 30]


def test_slow_statement_times_out(reader: SqlReader, db: Db) -> None:
    if db.kind == "sqlite":
        sql = """
            WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)
            SELECT 1 FROM cnt WHERE x = 999999999999
        """
    else:
        sql = "SELECT 1 WHERE CAST(pg_sleep(30) AS TEXT) = ''"
    started = time.monotonic()
    with pytest.raises(SqlConditionFailed, match=r"timed out after 0\.5s") as caught:
        reader.met(_smuggled(sql), CANDIDATES, AS_OF, 0.5)
    elapsed = time.monotonic() - started
    assert caught.value.timed_out
    assert 0.45 <= elapsed < 2.5
    # The limit is per statement: a later one of the reader has its own full time.
    slow_ok = (
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 300000)"
        " SELECT 1 FROM cnt WHERE x = 300000"
        if db.kind == "sqlite"
        else "SELECT 1 WHERE CAST(pg_sleep(0.7) AS TEXT) IS NOT NULL"
    )
    assert reader.met(_smuggled(slow_ok), CANDIDATES[:1], AS_OF, 5) == [10]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_watchdog_stops_a_statement_of_few_slow_steps(reader: SqlReader, db: Db) -> None:
    """Each row costs two calls of a megabyte each: SQLite's progress handler, which counts virtual machine
    steps, would wait for a thousand of them; the watchdog interrupts at the deadline."""
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000)"
        " SELECT 1 FROM c WHERE length(randomblob(900000)) + length(randomblob(900000)) = 0"
    )
    started = time.monotonic()
    with pytest.raises(SqlConditionFailed, match=r"timed out after 1s"):
        reader.met(_smuggled(sql), CANDIDATES, AS_OF, 1.0)
    assert time.monotonic() - started < 3.0
    assert _met(reader, "WHERE :contract_num = 'K2'") == [20]  # the interrupt is spent


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_length_and_depth_limits(reader: SqlReader, db: Db) -> None:
    """A blob of 250 MB is one step of the virtual machine, which nothing can interrupt: the length limit
    refuses it at once. A deeply nested expression is refused before it runs."""
    started = time.monotonic()
    huge = " + ".join(["length(randomblob(250000000))"] * 12)
    with pytest.raises(SqlConditionFailed, match="string or blob too big"):
        reader.met(_smuggled(f"SELECT 1 WHERE {huge} > 0"), CANDIDATES, AS_OF, 5)
    assert time.monotonic() - started < 1.0
    deep = "1" + " + 1" * SQLITE_MAX_EXPR_DEPTH
    with pytest.raises(SqlConditionFailed, match="Expression tree is too large"):
        reader.met(_smuggled(f"SELECT 1 WHERE {deep} > 0"), CANDIDATES, AS_OF, 5)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_reader_does_not_block_writers(db: Db, tmp_path: Path) -> None:
    """While a slow statement runs on the reader, another connection writes with a short busy timeout."""
    with db.engine.begin() as c:
        _seed(c)
    slow = (
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)"
        " SELECT 1 FROM contract, cnt WHERE x = 0"
    )
    failures: list[SqlConditionFailed] = []

    def evaluate() -> None:
        with SqlReader(db.engine) as r:
            try:
                r.met(_smuggled(slow), CANDIDATES, AS_OF, 3.0)
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
    assert _met(reader, "WHERE :contract_num = 'K1'") == [10, 30]
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
    assert _contract_count(db) == 4


# -- the read-only guard and the role ------------------------------------------------------------------------


def test_smuggled_delete_is_refused(reader: SqlReader, db: Db) -> None:
    # Inside EXISTS (...) a DELETE is not even syntax on either database.
    with pytest.raises(SqlConditionFailed, match="syntax error"):
        reader.met(_smuggled("DELETE FROM contract"), CANDIDATES, AS_OF, 5)
    assert _contract_count(db) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_smuggled_insert_in_cte_is_refused(reader: SqlReader, db: Db) -> None:
    sql = "WITH x AS (INSERT INTO contract VALUES ('XX', 'K0', 'ACTIVE') RETURNING 1) SELECT 1 FROM x"
    with pytest.raises(SqlConditionFailed, match="data-modifying statement must be at the top level"):
        reader.met(_smuggled(sql), CANDIDATES, AS_OF, 5)
    assert _contract_count(db) == 3


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
    assert _contract_count(db) == 3


def test_sqlite_write_through_a_function_hits_the_read_only_guard(tmp_path: Path) -> None:
    """SQLite has no stored procedures, but an application-defined function can write on the same
    connection; query_only stops it."""
    engine = _sqlite_engine(tmp_path / "w.db", explicit_begin=False)
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
        _seed(c)
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
        reader.met(_smuggled(sql), CANDIDATES, AS_OF, 5)
    assert "permission denied for table canary" in caught.value.reason
    assert SECRET not in str(caught.value)
    assert _met(reader, "WHERE :contract_num = 'K2'") == [20]  # allow-listed tables still read


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
        reader.met(_smuggled(sql), CANDIDATES, AS_OF, 5)


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
        _met(reader, "SELECT 1 FROM contract WHERE contract_num = :contract_num")
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
    assert _met(reader, "SELECT 1 FROM contract WHERE contract_num = :contract_num") == [10, 20, 30]
    with pytest.raises(SqlConditionFailed, match="permission denied for table canary"):
        reader.met(_smuggled("SELECT 1 FROM canary"), CANDIDATES, AS_OF, 5)


def test_unsupported_dialect_and_bad_arguments(reader: SqlReader) -> None:
    statement = validate_sql("SELECT 1", RULES)
    with pytest.raises(ValueError, match="supported"):
        evaluation_query(statement, CANDIDATES, AS_OF, "mysql")
    with pytest.raises(ValueError, match="timeout_s"):
        reader.met(statement, CANDIDATES, AS_OF, 0)
