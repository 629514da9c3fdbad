"""Bulk evaluation of SQL conditions: one read-only, time-limited query per distinct statement text.

The engine groups Ready SQL conditions by their normalized statement and asks, once per group, which of
them are met. Running the user's SELECT as a correlated ``EXISTS`` over all candidates keeps the hot path
set-based (DESIGN §4) instead of one query per milestone.

The validator (:mod:`conditions.sql_rules`) is the first fence; this module holds the other two of
DESIGN §13, and assumes the first may have been bypassed or may have a hole:

* the database: the statement runs on a connection of its own (:class:`SqlReader`), never in the
  engine's write transaction. On PostgreSQL in a ``READ ONLY`` transaction under ``SET LOCAL ROLE`` to a
  role that may ``SELECT`` the allow-listed tables and nothing else (created by ``ms-prcs init``); on
  SQLite with ``PRAGMA query_only`` and ``setlimit`` on string length and expression depth.
* time: ``statement_timeout`` on PostgreSQL; on SQLite a watchdog thread that calls
  ``sqlite3.Connection.interrupt()`` at the deadline (SQLite's progress handler counts virtual-machine
  steps, and a statement made of a few very slow steps never reaches the count).

The candidates (condition id and the four key binds) travel as bound values, not as a table the
statement's role would have to read: one JSON text on SQLite (``json_each``), five arrays on PostgreSQL
(``unnest``). A failure is a :class:`SqlConditionFailed` with the database's own message; the caller's
connection and transaction are never touched.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlglot import exp

from conditions.sql_rules import BINDS, ValidatedSql, render_with_binds, sqlglot_dialect
from contracts.errors import MsPrcsError

__all__ = [
    "CANDIDATE_COLUMNS",
    "Candidate",
    "SqlConditionFailed",
    "SqlReader",
    "default_role_name",
    "evaluation_query",
]

#: What each candidate carries, in this order: the condition's id, then the statement's binds.
CANDIDATE_COLUMNS = ("condition_id", "business_unit", "contract_num", "milestone_id", "milestone_num")
Candidate = tuple[int, str, str, str, int]

_CAND = "ms_prcs_cand"
_PREFIX = "ms_prcs_"  # reserved by the validator, so user aliases cannot capture these names
_AS_OF_PARAM = "ms_prcs_as_of_date"
_SUPPORTED = ("sqlite", "postgresql")
_PG_QUERY_CANCELED = "57014"
_PG_READ_ONLY = "25006"

#: SQLite limits on the reader's connection. 1 MB per string or blob: ``randomblob(250000000)`` fails at
#: once instead of running for seconds in one step the watchdog cannot cut; deep enough for any
#: expression the parser's own depth limit lets through, with room for the evaluator's wrapper.
SQLITE_MAX_LENGTH = 1_000_000
SQLITE_MAX_EXPR_DEPTH = 200
# One JSON text of candidates must stay well under SQLITE_MAX_LENGTH: the limit applies to binds too.
_SQLITE_BATCH_BYTES = 500_000
_SQLITE_TYPES = ("INTEGER", "TEXT", "TEXT", "TEXT", "INTEGER")
_PG_TYPES = ("integer", "text", "text", "text", "integer")


class SqlConditionFailed(MsPrcsError):
    """A SQL condition's statement could not be evaluated; its conditions stay Ready and the run goes on.

    ``source`` is the statement as the user wrote it, so the run log can show what failed, and
    ``reason`` is either the time limit or the database's own message.
    """

    def __init__(
        self, source: str, reason: str, *, timed_out: bool = False, obj: str = "SQL condition"
    ) -> None:
        shown = " ".join(source.split())
        super().__init__(f"{obj}: {reason}\n  SQL: {shown}")
        self.obj = obj
        self.source = source
        self.reason = reason
        self.timed_out = timed_out


def default_role_name(database: str) -> str:
    """The PostgreSQL role SQL conditions run under when ``MS_PRCS_SQL_ROLE`` names none: one per
    database (roles are cluster-wide, allow-lists are per database), named by a hash of its name so
    any database name gives a valid, short identifier."""
    return f"ms_prcs_sql_{hashlib.sha256(database.encode()).hexdigest()[:12]}"


def evaluation_query(
    statement: ValidatedSql, candidates: Sequence[Candidate], as_of: datetime.date, dialect: str
) -> sa.TextClause:
    """The one query that returns the ids of the met ``candidates``, for the SQLAlchemy dialect ``dialect``.

    Shape: ``SELECT id FROM (candidates as bound values) AS ms_prcs_cand WHERE EXISTS (user select)``,
    where the user's ``:business_unit`` etc. become ``ms_prcs_cand.*`` columns (so each candidate row
    brings its own values) and ``:as_of_date`` stays a real bind parameter. The candidate columns carry
    the reserved ``ms_prcs_`` prefix so that an unqualified column the user mistyped is an error instead
    of silently correlating to a candidate column of the same name.

    Public so that tests and ``--dry-run`` tooling can look at the SQL without running it. Raises
    :class:`SqlConditionFailed` if sqlglot cannot transpile the statement (only possible for a
    :class:`ValidatedSql` that did not come from ``validate_sql``), ``ValueError`` for caller mistakes.
    """
    if dialect not in _SUPPORTED:
        raise ValueError(
            f"SQL conditions cannot be evaluated on {dialect} (supported: {', '.join(_SUPPORTED)})"
        )
    exists_sql, uses_as_of = _exists_sql(statement, dialect)
    params: list[sa.BindParameter[Any]] = []
    if uses_as_of:
        params.append(sa.bindparam(_AS_OF_PARAM, value=as_of, type_=sa.Date))
    names = [f"{_PREFIX}{name}" for name in CANDIDATE_COLUMNS]
    if dialect == "sqlite":
        rows = sa.bindparam(f"{_PREFIX}candidates", value=json.dumps(candidates), type_=sa.Text)
        params.append(rows)
        columns = ", ".join(
            f"CAST(json_extract(value, '$[{i}]') AS {t}) AS {n}"
            for i, (t, n) in enumerate(zip(_SQLITE_TYPES, names, strict=True))
        )
        source = f"(SELECT {columns} FROM json_each(:{rows.key})) AS {_CAND}"
    else:
        arrays = []
        for i, (pg_type, name) in enumerate(zip(_PG_TYPES, names, strict=True)):
            element: Any = sa.Integer if pg_type == "integer" else sa.Text
            values = [row[i] for row in candidates]
            params.append(sa.bindparam(f"{name}s", value=values, type_=postgresql.ARRAY(element)))
            arrays.append(f"CAST(:{name}s AS {pg_type}[])")
        source = f"unnest({', '.join(arrays)}) AS {_CAND}({', '.join(names)})"
    condition_id = f"{_CAND}.{names[0]}"
    sql = f"SELECT {condition_id} FROM {source} WHERE {exists_sql} ORDER BY {condition_id}"
    return sa.text(sql).bindparams(*params)


@functools.lru_cache(maxsize=512)
def _exists_sql(statement: ValidatedSql, dialect: str) -> tuple[str, bool]:
    """``EXISTS (user select)`` for ``dialect`` with the binds resolved, and whether it uses the as-of bind.

    Cached because the engine evaluates each statement once per chunk: parsing and transpiling it with
    sqlglot every time costs milliseconds per statement and chunk, seconds over a large run.
    """
    sentinel = f"{_PREFIX}asof_{uuid.uuid4().hex}"
    uses_as_of = False

    def bind(name: str) -> exp.Expr:
        nonlocal uses_as_of
        if name == "as_of_date":
            uses_as_of = True
            return exp.Var(this=sentinel)
        if name in BINDS:
            return exp.column(f"{_PREFIX}{name}", table=_CAND)
        return exp.Var(this=f":{name}")  # not a known bind: left for the database to refuse

    try:
        user_sql = render_with_binds(statement, sqlglot_dialect(dialect), bind)
    except Exception as err:  # sqlglot cannot read or transpile a statement that was not validated
        raise SqlConditionFailed(statement.source, f"cannot translate the SQL for {dialect}: {err}") from err
    # text() treats every ":word" as a bind; the user's own colons (string literals, comments, casts)
    # must stay literal, so all are escaped and only the sentinel becomes the real as-of bind.
    user_sql = user_sql.replace(":", "\\:").replace(sentinel, f":{_AS_OF_PARAM}")
    return f"EXISTS ({user_sql})", uses_as_of


class SqlReader:
    """A connection of its own for SQL conditions, read-only and time-limited, opened on first use.

    Taken from ``engine``'s pool so it has the engine's settings (search path, pragmas), but never given
    back with its guards on: on SQLite the connection is discarded at :meth:`close` (``query_only`` and
    the limits are per connection and not transactional); on PostgreSQL every guard is ``SET LOCAL`` in
    a transaction that is always rolled back. ``role`` is the PostgreSQL role statements run under
    (default: :func:`default_role_name` of the database); there is no way to run without one, so a
    missing role fails closed, with ``ms-prcs init`` named in the message.
    """

    def __init__(self, engine: sa.Engine, role: str | None = None) -> None:
        if engine.dialect.name not in _SUPPORTED:
            raise ValueError(
                f"SQL conditions cannot be evaluated on {engine.dialect.name}"
                f" (supported: {', '.join(_SUPPORTED)})"
            )
        self.engine = engine
        self.dialect = engine.dialect.name
        self._role = role
        self._conn: sa.Connection | None = None
        self._watchdog: _Watchdog | None = None

    def __enter__(self) -> SqlReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.close()
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self.dialect == "sqlite":
                conn.invalidate()  # its pragmas and limits must never reach the pool
        finally:
            conn.close()

    @property
    def role(self) -> str | None:
        """The PostgreSQL role statements run under (None on SQLite)."""
        if self.dialect != "postgresql":
            return None
        if self._role is None:
            self._role = default_role_name(
                str(self._connection().scalar(sa.text("SELECT current_database()")))
            )
            self._connection().rollback()
        return self._role

    def _connection(self) -> sa.Connection:
        if self._conn is None:
            conn = self.engine.connect()
            try:
                if self.dialect == "sqlite":
                    _sqlite_guard(conn)
                    self._watchdog = _Watchdog(conn.connection.dbapi_connection)
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def met(
        self,
        statement: ValidatedSql,
        candidates: Sequence[Candidate],
        as_of: datetime.date,
        timeout_s: float,
    ) -> list[int]:
        """Ids of the ``candidates`` whose statement returns a row, in ascending order.

        One query (SQLite: one per half megabyte of candidate keys, all under one deadline), stopped
        after ``timeout_s`` seconds. Raises :class:`SqlConditionFailed` with the database's message.
        """
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if not candidates:
            return []
        if self.dialect == "sqlite":
            return self._met_sqlite(statement, candidates, as_of, timeout_s)
        return self._met_postgres(statement, candidates, as_of, timeout_s)

    def _met_sqlite(
        self, statement: ValidatedSql, candidates: Sequence[Candidate], as_of: datetime.date, timeout_s: float
    ) -> list[int]:
        conn = self._connection()
        watchdog = self._watchdog
        assert watchdog is not None
        met: list[int] = []
        with watchdog.armed(timeout_s):
            try:
                for batch in _sqlite_batches(candidates):
                    query = evaluation_query(statement, batch, as_of, "sqlite")
                    met += [int(row) for row in conn.execute(query).scalars()]
            except DBAPIError as err:
                if watchdog.fired:
                    raise SqlConditionFailed(
                        statement.source, f"timed out after {timeout_s:g}s", timed_out=True
                    ) from err
                raise SqlConditionFailed(statement.source, _reason(err)) from err
            finally:
                conn.rollback()
        return sorted(met)

    def _met_postgres(
        self, statement: ValidatedSql, candidates: Sequence[Candidate], as_of: datetime.date, timeout_s: float
    ) -> list[int]:
        role = self.role
        assert role is not None
        conn = self._connection()
        query = evaluation_query(statement, candidates, as_of, "postgresql")
        millis = max(1, math.ceil(timeout_s * 1000))
        try:
            with _rolled_back(conn):
                # The three guards in one round trip (a run sends them for every statement of every
                # chunk): read only, the time limit, the role. Only the role can fail (missing, or not
                # granted to the connecting user); ``millis`` is an int and the role is quoted.
                try:
                    conn.exec_driver_sql(
                        f"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {int(millis)};"
                        f" SET LOCAL ROLE {_quote(role)}"
                    )
                except DBAPIError as err:
                    raise SqlConditionFailed(
                        statement.source,
                        f"cannot run as the SQL role {role} ({_reason(err)}); run `ms-prcs init`",
                    ) from err
                return [int(row) for row in conn.execute(query).scalars()]
        except DBAPIError as err:
            if _sqlstate(err) == _PG_QUERY_CANCELED and "statement timeout" in str(err.orig):
                raise SqlConditionFailed(
                    statement.source, f"timed out after {timeout_s:g}s", timed_out=True
                ) from err
            raise SqlConditionFailed(statement.source, _reason(err)) from err


@contextmanager
def _rolled_back(conn: sa.Connection) -> Iterator[None]:
    """A transaction that is never committed: nothing a hole let through survives, nor any SET LOCAL."""
    conn.begin()
    try:
        yield
    finally:
        conn.rollback()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sqlite_batches(candidates: Sequence[Candidate]) -> Iterator[Sequence[Candidate]]:
    """The candidates in as few slices as keep each JSON text under the reader's length limit."""
    size = len(json.dumps(candidates))
    parts = max(1, math.ceil(size / _SQLITE_BATCH_BYTES))
    step = math.ceil(len(candidates) / parts)
    for start in range(0, len(candidates), step):
        yield candidates[start : start + step]


def _sqlite_guard(conn: sa.Connection) -> None:
    """``query_only`` and the length and depth limits, on a connection that is discarded afterwards."""
    raw: Any = conn.connection.dbapi_connection
    if not hasattr(raw, "interrupt") or not hasattr(raw, "setlimit"):
        raise ValueError("SQL conditions need sqlite3 with interrupt() and setlimit() (Python 3.11+)")
    import sqlite3

    conn.exec_driver_sql("PRAGMA query_only = ON")
    conn.rollback()
    raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_MAX_LENGTH)
    raw.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, SQLITE_MAX_EXPR_DEPTH)


class _Watchdog:
    """Interrupts the SQLite connection's running statement at its deadline, from one thread per connection.

    ``sqlite3_interrupt`` is the one SQLite call meant to be made from another thread; it is checked at
    every jump of the virtual machine. The thread lives as long as the reader's connection and sleeps until
    a statement arms it: starting a timer thread per statement cost close to a millisecond each, and a run
    of a million milestones evaluates about a thousand statements. The interrupt is made under the lock that
    :meth:`armed` disarms under, so it fires only while the statement it was armed for runs, never on a
    later statement of the connection.
    """

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._wake = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self.fired = False
        self._thread = threading.Thread(target=self._watch, name="ms-prcs-sql-watchdog", daemon=True)
        self._thread.start()

    @contextmanager
    def armed(self, timeout_s: float) -> Iterator[None]:
        """Interrupt what the connection runs if it is still inside this block ``timeout_s`` from now."""
        with self._wake:
            if self._closed:
                raise RuntimeError("the SQL watchdog is closed")
            self.fired = False
            self._deadline = time.monotonic() + timeout_s
            self._wake.notify()  # the thread may be sleeping towards a later deadline, or none
        try:
            yield
        finally:
            with self._wake:  # no notify: waking at the stale deadline, the thread finds none and sleeps on
                self._deadline = None

    def _watch(self) -> None:
        with self._wake:
            while not self._closed:
                if self._deadline is None:
                    self._wake.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                self._deadline = None
                self.fired = True
                self._raw.interrupt()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._deadline = None
            self._wake.notify()
        self._thread.join()


def _reason(err: DBAPIError) -> str:
    text = str(err.orig).strip() or type(err.orig).__name__
    first = text.splitlines()[0]
    if _sqlstate(err) == _PG_READ_ONLY:
        return f"refused by the read-only guard: {first}"
    return first


def _sqlstate(err: DBAPIError) -> str | None:
    orig = err.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)  # psycopg 3 / psycopg2
    return code if isinstance(code, str) else None
