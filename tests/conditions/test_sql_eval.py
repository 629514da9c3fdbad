"""The SQL condition evaluator against real databases: an SQLite file, and the test run's PostgreSQL server
(``pg_server_url`` in conftest.py; each test gets a fresh schema).

The tables here are the test's own, not the project's models, so the evaluator is tested on its contract
alone: candidates in, met condition ids out, nothing written, the caller's transaction intact.
"""

from __future__ import annotations

import datetime
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conditions.sql import SqlConditionFailed, evaluation_query, met_condition_ids
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql
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
candidate = sa.Table(
    "candidate",
    metadata,
    sa.Column("condition_id", sa.Integer, primary_key=True),
    sa.Column("business_unit", sa.String(5)),
    sa.Column("contract_num", sa.String(25)),
    sa.Column("milestone_id", sa.String(10)),
    sa.Column("milestone_num", sa.Integer),
)
CANDIDATES = sa.select(
    candidate.c.condition_id,
    candidate.c.business_unit,
    candidate.c.contract_num,
    candidate.c.milestone_id,
    candidate.c.milestone_num,
)
RULES = SqlRules(allowed_tables=frozenset({"contract", "candidate"}))
# The evaluator is the second fence and must hold when the first lets something through: an operator who
# allow-lists a function that sleeps or writes, or a construct the portability rules refuse.
HOLEY = SqlRules(
    allowed_tables=RULES.allowed_tables,
    allowed_functions=RULES.allowed_functions | {"pg_sleep", "sneaky_delete"},
)


@dataclass
class Db:
    engine: sa.Engine
    kind: str  # "sqlite" or "postgresql"


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
        engine = _sqlite_engine(tmp_path / "ms_prcs.db", request.param == "sqlite-explicit-begin")
        metadata.create_all(engine)
        yield Db(engine, "sqlite")
        engine.dispose()
        return
    if pg_server_url is None:
        pytest.skip("PostgreSQL not available (set MS_PRCS_TEST_PG_URL or install postgresql)")
    pg_url = normalize_url(pg_server_url)
    schema = f"ms_prcs_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = sa.create_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        yield Db(engine, "postgresql")
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _seed(conn: sa.Connection) -> None:
    conn.execute(
        contract.insert(),
        [
            {
                "business_unit": "US001",
                "contract_num": "K1",
                "status": "ACTIVE",
                "start_date": datetime.date(2024, 1, 15),
            },
            {
                "business_unit": "US001",
                "contract_num": "K2",
                "status": "PENDING",
                "start_date": datetime.date(2024, 6, 1),
            },
            {"business_unit": "FR001", "contract_num": "K1", "status": "PENDING", "start_date": None},
        ],
    )
    conn.execute(
        candidate.insert(),
        [
            {"condition_id": 10, "business_unit": "US001", "contract_num": "K1", "milestone_id": "MS001", "milestone_num": 1},
            {"condition_id": 20, "business_unit": "US001", "contract_num": "K2", "milestone_id": "MS001", "milestone_num": 2},
            {"condition_id": 30, "business_unit": "FR001", "contract_num": "K1", "milestone_id": "MS002", "milestone_num": 1},
        ],
    )  # fmt: skip


@pytest.fixture
def conn(db: Db) -> Iterator[sa.Connection]:
    with db.engine.begin() as c:
        _seed(c)
    with db.engine.connect() as c:
        yield c
        c.rollback()


def _met(
    conn: sa.Connection,
    sql: str,
    as_of: datetime.date = AS_OF,
    timeout_s: float = 5.0,
    rules: SqlRules = RULES,
) -> list[int]:
    return met_condition_ids(conn, validate_sql(sql, rules), CANDIDATES, as_of, timeout_s)


def _contract_count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(contract)).scalar_one())


# -- results --------------------------------------------------------------------------------------------


def test_binds_are_joined_per_candidate(conn: sa.Connection) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num AND c.status = 'ACTIVE'
    """
    assert _met(conn, sql) == [10]  # same contract_num K1 in FR001 is PENDING: business_unit is joined too


def test_milestone_binds_and_bare_where(conn: sa.Connection) -> None:
    assert _met(conn, "WHERE :milestone_id = 'MS001' AND :milestone_num = 2") == [20]
    assert _met(conn, "WHERE upper(:business_unit) LIKE 'US%'") == [10, 20]


def test_as_of_date_is_a_real_bind(conn: sa.Connection) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num
          AND c.start_date <= :as_of_date
    """
    assert _met(conn, sql, datetime.date(2023, 12, 31)) == []
    assert _met(conn, sql, datetime.date(2024, 1, 15)) == [10]  # inclusive
    assert _met(conn, sql, datetime.date(2024, 6, 1)) == [10, 20]
    query = evaluation_query(validate_sql(sql, RULES), CANDIDATES, AS_OF, conn.dialect.name)
    compiled = query.compile(conn.engine)
    assert compiled.params["ms_prcs_as_of_date"] == AS_OF
    assert "2024-03-31" not in str(compiled)


def test_no_candidates_means_nothing_met(conn: sa.Connection) -> None:
    statement = validate_sql("SELECT 1", RULES)
    assert met_condition_ids(conn, statement, CANDIDATES.where(sa.false()), AS_OF, 5) == []
    assert met_condition_ids(conn, statement, CANDIDATES, AS_OF, 5) == [10, 20, 30]


def test_colons_and_percents_in_the_users_sql_stay_literal(conn: sa.Connection) -> None:
    sql = """
        SELECT 1 FROM contract c  -- a comment with :not_a_bind
        WHERE c.contract_num = :contract_num AND c.business_unit = :business_unit
          AND '10:30 :x' LIKE '%:%' AND upper(c.status) LIKE 'ACT%'
    """
    assert _met(conn, sql) == [10]


def test_unqualified_columns_do_not_correlate_to_candidates(conn: sa.Connection) -> None:
    # contract has no milestone_id column; it must be an error, not the candidate's milestone_id.
    with pytest.raises(SqlConditionFailed, match="milestone_id"):
        _met(conn, "SELECT 1 FROM contract WHERE milestone_id = 'MS001'")


# -- failures leave the caller's transaction usable ------------------------------------------------------


def test_runtime_error_raises_and_keeps_the_transaction(conn: sa.Connection) -> None:
    conn.execute(contract.insert().values(business_unit="US002", contract_num="K9", status="ACTIVE"))
    with pytest.raises(SqlConditionFailed) as caught:
        _met(conn, "SELECT 1 FROM contract WHERE no_such_column = 1")
    assert "no_such_column" in caught.value.reason
    assert not caught.value.timed_out
    assert caught.value.source == "SELECT 1 FROM contract WHERE no_such_column = 1"
    # The earlier uncommitted insert is still there, later statements work, and it can be committed.
    assert _contract_count(conn) == 4
    assert _met(conn, "WHERE :contract_num = 'K2'") == [20]
    conn.execute(contract.insert().values(business_unit="US002", contract_num="K10", status="ACTIVE"))
    conn.commit()
    assert _contract_count(conn) == 5


def test_division_by_zero_on_some_rows(conn: sa.Connection, db: Db) -> None:
    # The SQL rules refuse this at Ready (the verdicts differ); here it is smuggled past them.
    sql = "SELECT 1 FROM contract c WHERE c.contract_num = :contract_num AND 1 / 0 = 1"
    statement = ValidatedSql(sql, sql, frozenset({"contract_num"}))
    if db.kind == "sqlite":
        assert met_condition_ids(conn, statement, CANDIDATES, AS_OF, 5) == []  # SQLite's 1/0 is NULL
    else:
        with pytest.raises(SqlConditionFailed, match="division by zero"):
            met_condition_ids(conn, statement, CANDIDATES, AS_OF, 5)
        assert _met(conn, "WHERE :contract_num = 'K1'") == [10, 30]


def test_slow_statement_times_out(conn: sa.Connection, db: Db) -> None:
    if db.kind == "sqlite":
        sql = """
            WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)
            SELECT 1 FROM cnt WHERE x = 999999999999
        """
    else:
        sql = "WHERE :contract_num IS NOT NULL AND CAST(pg_sleep(30) AS TEXT) = ''"
    conn.execute(contract.insert().values(business_unit="US002", contract_num="K9", status="ACTIVE"))
    started = time.monotonic()
    with pytest.raises(SqlConditionFailed, match=r"timed out after 0\.5s") as caught:
        _met(conn, sql, timeout_s=0.5, rules=HOLEY)
    elapsed = time.monotonic() - started
    assert caught.value.timed_out
    assert 0.45 <= elapsed < 2.5
    assert _contract_count(conn) == 4  # the transaction survived the interrupt
    # The time limit is gone afterwards: a slower-than-0.5s query of the caller's runs to the end.
    time.sleep(0.6)
    slow_ok = (
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 300000) SELECT count(*) FROM cnt"
        if db.kind == "sqlite"
        else "SELECT pg_sleep(0.7)"
    )
    conn.execute(sa.text(slow_ok))


# -- the read-only guard -----------------------------------------------------------------------------------


def test_guards_are_lifted_afterwards(conn: sa.Connection, db: Db) -> None:
    assert _met(conn, "WHERE :contract_num = 'K1'") == [10, 30]
    if db.kind == "sqlite":
        assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 0
    else:
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    conn.execute(contract.insert().values(business_unit="US003", contract_num="K1", status="ACTIVE"))
    assert _contract_count(conn) == 4


def test_sqlite_query_only_is_restored_to_its_previous_value(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path / "q.db", explicit_begin=False)
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA query_only = ON")
        assert _met(conn, "SELECT 1") == []
        assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 1
    engine.dispose()


def _smuggled(sql: str) -> ValidatedSql:
    """A statement that never went through validate_sql, as if the validator had a hole."""
    return ValidatedSql(source=sql, normalized=sql, binds=frozenset(), dialect="postgres")


def test_smuggled_delete_is_refused(conn: sa.Connection) -> None:
    # Inside EXISTS (...) a DELETE is not even syntax on either database.
    with pytest.raises(SqlConditionFailed, match="syntax error"):
        met_condition_ids(conn, _smuggled("DELETE FROM contract"), CANDIDATES, AS_OF, 5)
    assert _contract_count(conn) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_smuggled_insert_in_cte_is_refused(conn: sa.Connection) -> None:
    sql = "WITH x AS (INSERT INTO contract VALUES ('XX', 'K0', 'ACTIVE') RETURNING 1) SELECT 1 FROM x"
    with pytest.raises(SqlConditionFailed, match="data-modifying statement must be at the top level"):
        met_condition_ids(conn, _smuggled(sql), CANDIDATES, AS_OF, 5)
    assert _contract_count(conn) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_write_through_a_function_hits_the_read_only_guard(conn: sa.Connection) -> None:
    """The real hole a validator cannot see: a function that writes, called from a plain SELECT."""
    conn.exec_driver_sql(
        """
        CREATE FUNCTION sneaky_delete() RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM contract; RETURN true; END $$
        """
    )
    conn.commit()
    statement = validate_sql(
        "WHERE sneaky_delete()", HOLEY
    )  # an operator allow-listed a function that writes
    conn.execute(contract.insert().values(business_unit="US002", contract_num="K9", status="ACTIVE"))
    with pytest.raises(
        SqlConditionFailed, match="read-only guard: cannot execute DELETE in a read-only transaction"
    ):
        met_condition_ids(conn, statement, CANDIDATES, AS_OF, 5)
    assert _contract_count(conn) == 4  # nothing deleted, the caller's own insert kept
    conn.execute(contract.insert().values(business_unit="US002", contract_num="K10", status="ACTIVE"))
    conn.commit()
    assert _contract_count(conn) == 5


def test_sqlite_write_through_a_function_hits_the_read_only_guard(tmp_path: Path) -> None:
    """SQLite has no stored procedures, but an application-defined function can write on the same
    connection; query_only stops it."""
    engine = _sqlite_engine(tmp_path / "w.db", explicit_begin=False)
    metadata.create_all(engine)
    with engine.begin() as c:
        _seed(c)
    errors: list[str] = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)

        def sneaky_delete() -> int:
            try:
                raw.execute("DELETE FROM contract")
            except sqlite3.Error as err:
                errors.append(str(err))
                raise
            return 1

        raw.create_function("sneaky_delete", 0, sneaky_delete)
        statement = validate_sql("WHERE sneaky_delete() = 1", HOLEY)
        with pytest.raises(SqlConditionFailed):
            met_condition_ids(conn, statement, CANDIDATES, AS_OF, 5)
        assert errors and "readonly" in errors[0]
        assert _contract_count(conn) == 3
        conn.execute(contract.insert().values(business_unit="US002", contract_num="K9", status="ACTIVE"))
        conn.commit()
        assert _contract_count(conn) == 4
    engine.dispose()


def test_unsupported_dialect_and_bad_arguments(conn: sa.Connection) -> None:
    statement = validate_sql("SELECT 1", RULES)
    with pytest.raises(ValueError, match="supported"):
        evaluation_query(statement, CANDIDATES, AS_OF, "mysql")
    with pytest.raises(ValueError, match="condition_id"):
        evaluation_query(statement, sa.select(candidate.c.business_unit), AS_OF, "sqlite")
    with pytest.raises(ValueError, match="timeout_s"):
        met_condition_ids(conn, statement, CANDIDATES, AS_OF, 0)
