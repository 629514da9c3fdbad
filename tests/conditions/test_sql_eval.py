"""The SQL condition evaluator against real databases: an SQLite file, and the test run's PostgreSQL server
(``pg_server_url`` in conftest.py; each test gets a fresh schema, and a SQL role of its own for it).

The tables here are the test's own, not the project's models, so the evaluator is tested on its contract
alone: candidates in, met condition ids out, nothing written, on a connection of its own (DESIGN §13).
Statements built with :func:`~tests.conditions.sql_eval_db.smuggled` skip the parser on purpose: they show what the database fence
and the time limits hold by themselves.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from conditions.sql import SQLITE_MAX_EXPR_DEPTH, SqlConditionFailed, SqlReader, _Watchdog, evaluation_query
from conditions.sql_rules import ValidatedSql, validate_sql
from tests.conditions.sql_eval_db import (
    AS_OF,
    CANDIDATES,
    RULES,
    Db,
    met,
    smuggled,
)

# -- results --------------------------------------------------------------------------------------------


def test_binds_are_joined_per_candidate(reader: SqlReader) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num AND c.status = 'ACTIVE'
    """
    assert met(reader, sql) == [10]  # same contract_num K1 in FR001 is PENDING: business_unit is joined too


def test_milestone_binds_and_bare_where(reader: SqlReader) -> None:
    assert met(reader, "WHERE :milestone_id = 'MS001' AND :milestone_num = 2") == [20]
    assert met(reader, "WHERE upper(:business_unit) LIKE 'US%'") == [10, 20]


def test_as_of_date_is_a_real_bind(reader: SqlReader, db: Db) -> None:
    sql = """
        SELECT 1 FROM contract c
        WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num
          AND c.start_date <= :as_of_date
    """
    assert met(reader, sql, datetime.date(2023, 12, 31)) == []
    assert met(reader, sql, datetime.date(2024, 1, 15)) == [10]  # inclusive
    assert met(reader, sql, datetime.date(2024, 6, 1)) == [10, 20]
    query = evaluation_query(validate_sql(sql, RULES), CANDIDATES, AS_OF, db.kind)
    compiled = query.compile(db.engine)
    assert compiled.params["ms_prcs_as_of_date"] == AS_OF
    assert "2024-03-31" not in str(compiled)
    assert "US001" not in str(compiled)  # the candidates are bound values too


def test_no_candidates_means_nothingmet(reader: SqlReader) -> None:
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
    assert met(reader, sql) == [10]


def test_unqualified_columns_do_not_correlate_to_candidates(reader: SqlReader) -> None:
    # contract has no milestone_id column; it must be an error, not the candidate's milestone_id.
    with pytest.raises(SqlConditionFailed, match="milestone_id"):
        met(reader, "SELECT 1 FROM contract WHERE milestone_id = 'MS001'")


# -- failures ----------------------------------------------------------------------------------------------


def test_runtime_error_raises_and_the_reader_goes_on(reader: SqlReader) -> None:
    with pytest.raises(SqlConditionFailed) as caught:
        met(reader, "SELECT 1 FROM contract WHERE no_such_column = 1")
    assert "no_such_column" in caught.value.reason
    assert not caught.value.timed_out
    assert caught.value.source == "SELECT 1 FROM contract WHERE no_such_column = 1"
    assert met(reader, "WHERE :contract_num = 'K2'") == [20]


def test_division_by_zero_on_some_rows(reader: SqlReader, db: Db) -> None:
    # The SQL rules refuse this at Ready (the verdicts differ); here it is smuggled past them.
    sql = "SELECT 1 FROM contract c WHERE c.contract_num = :contract_num AND 1 / 0 = 1"
    statement = ValidatedSql(sql, sql, frozenset({"contract_num"}))
    if db.kind == "sqlite":
        assert reader.met(statement, CANDIDATES, AS_OF, 5) == []  # SQLite's 1/0 is NULL, not an error
    else:
        with pytest.raises(SqlConditionFailed, match="division by zero"):
            reader.met(statement, CANDIDATES, AS_OF, 5)
        assert met(reader, "WHERE :contract_num = 'K1'") == [10, 30]


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
        reader.met(smuggled(sql), CANDIDATES, AS_OF, 0.5)
    elapsed = time.monotonic() - started
    assert caught.value.timed_out
    assert 0.45 <= elapsed < 5.0  # the statement alone would run for hours; the margin is for a loaded CI
    # The limit is per statement: a later one of the reader has its own full time.
    slow_ok = (
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 300000)"
        " SELECT 1 FROM cnt WHERE x = 300000"
        if db.kind == "sqlite"
        else "SELECT 1 WHERE CAST(pg_sleep(0.7) AS TEXT) IS NOT NULL"
    )
    assert reader.met(smuggled(slow_ok), CANDIDATES[:1], AS_OF, 5) == [10]


def _slow_few_steps(rows: int = 100_000_000) -> str:
    """About 4 ms a row of randomblob calls, each a single step: only the watchdog can cut it short."""
    return (
        f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows})"
        " SELECT 1 FROM c WHERE length(randomblob(900000)) + length(randomblob(900000)) = 0"
    )


_SLOW_OK = (  # about a second of work that ends by itself and is met
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1500000)"
    " SELECT 1 FROM cnt WHERE x = 1500000"
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_watchdog_stops_a_statement_of_few_slow_steps(reader: SqlReader, db: Db) -> None:
    """Each row costs two calls of a megabyte each: SQLite's progress handler, which counts virtual machine
    steps, would wait for a thousand of them; the watchdog interrupts at the deadline."""
    started = time.monotonic()
    with pytest.raises(SqlConditionFailed, match=r"timed out after 1s"):
        reader.met(smuggled(_slow_few_steps()), CANDIDATES, AS_OF, 1.0)
    assert time.monotonic() - started < 6.0  # without the watchdog: minutes; the margin is for a loaded CI
    assert met(reader, "WHERE :contract_num = 'K2'") == [20]  # the interrupt is spent


def _watchdog_threads() -> int:
    return sum(thread.name == "ms-prcs-sql-watchdog" for thread in threading.enumerate())


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_reader_keeps_one_watchdog_thread_for_all_its_statements(reader: SqlReader, db: Db) -> None:
    """A thread per statement cost about a millisecond each; the reader starts one and stops it at close."""
    before = _watchdog_threads()
    for _ in range(20):
        assert met(reader, "WHERE :contract_num = 'K2'") == [20]
    assert _watchdog_threads() == before + 1
    reader.close()
    assert _watchdog_threads() == before


def test_sqlite_watchdog_never_fires_once_its_block_is_left(tmp_path: Path) -> None:
    """Armed for 0.2 s around a quick statement, then left: a slow statement run afterwards on the same
    connection, outside any armed block, outlasts that deadline and must not be cut by it."""
    raw = sqlite3.connect(tmp_path / "watchdog.db")
    watchdog = _Watchdog(raw)
    try:
        with watchdog.armed(0.2):
            assert raw.execute("SELECT 1").fetchall() == [(1,)]
        started = time.monotonic()
        assert raw.execute(_SLOW_OK).fetchall() == [(1,)]
        assert time.monotonic() - started > 0.3, (
            "the statement must outlast the old deadline to show anything"
        )
        assert not watchdog.fired
    finally:
        watchdog.close()
        raw.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_watchdog_takes_an_earlier_deadline_than_the_one_it_slept_towards(
    reader: SqlReader, db: Db
) -> None:
    """After a statement armed for a minute, one armed for half a second is still cut at half a second."""
    assert reader.met(smuggled("SELECT 1"), CANDIDATES[:1], AS_OF, 60) == [10]
    started = time.monotonic()
    with pytest.raises(SqlConditionFailed, match=r"timed out after 0\.5s"):  # uncut: 10 s or more, no row
        reader.met(smuggled(_slow_few_steps(3000)), CANDIDATES, AS_OF, 0.5)
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_length_and_depth_limits(reader: SqlReader, db: Db) -> None:
    """A blob of 250 MB is one step of the virtual machine, which nothing can interrupt: the length limit
    refuses it at once. A deeply nested expression is refused before it runs."""
    started = time.monotonic()
    huge = " + ".join(["length(randomblob(250000000))"] * 12)
    with pytest.raises(SqlConditionFailed, match="string or blob too big"):
        reader.met(smuggled(f"SELECT 1 WHERE {huge} > 0"), CANDIDATES, AS_OF, 5)
    assert time.monotonic() - started < 5.0  # twelve 250 MB blobs take 14 s or more without the limit
    deep = "1" + " + 1" * SQLITE_MAX_EXPR_DEPTH
    with pytest.raises(SqlConditionFailed, match="Expression tree is too large"):
        reader.met(smuggled(f"SELECT 1 WHERE {deep} > 0"), CANDIDATES, AS_OF, 5)
