"""Bulk evaluation of SQL conditions: one read-only, time-limited query per distinct statement text.

The engine groups Ready SQL conditions by their normalized statement and asks, once per group, which of
them are met. Running the user's SELECT as a correlated ``EXISTS`` over all candidates keeps the hot path
set-based (DESIGN §4) instead of one query per milestone.

The validator (:mod:`conditions.sql_rules`) is the first fence; this module is the second, and assumes
the first may have been bypassed or may have a hole: the query runs inside a savepoint that is always
rolled back, under the database's own read-only mode and a time limit, so a bad condition can neither
change data nor hang the run, and its failure leaves the caller's transaction usable for the rest of
the run (DESIGN §3: a failing condition stays Ready and the run goes on).
"""

from __future__ import annotations

import datetime
import functools
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlglot import exp

from conditions.sql_rules import BINDS, ValidatedSql, render_with_binds, sqlglot_dialect
from contracts.errors import MsPrcsError

__all__ = ["CANDIDATE_COLUMNS", "SqlConditionFailed", "evaluation_query", "met_condition_ids"]

#: The labels ``candidates`` must carry; all but ``condition_id`` feed the statement's binds.
CANDIDATE_COLUMNS = ("condition_id", "business_unit", "contract_num", "milestone_id", "milestone_num")

_CAND = "ms_prcs_cand"
_PREFIX = "ms_prcs_"  # reserved by the validator, so user aliases cannot capture these names
_AS_OF_PARAM = "ms_prcs_as_of_date"
_SUPPORTED = ("sqlite", "postgresql")
# SQLite calls the progress handler every this many virtual-machine instructions: often enough to stop
# within milliseconds of the deadline, rarely enough to cost nothing measurable.
_PROGRESS_STEPS = 1000
_PG_QUERY_CANCELED = "57014"
_PG_READ_ONLY = "25006"


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


def evaluation_query(
    statement: ValidatedSql, candidates: sa.Select[Any], as_of: datetime.date, dialect: str
) -> sa.Select[Any]:
    """The one query that returns the ids of the met candidates, for the SQLAlchemy dialect ``dialect``.

    Shape: ``SELECT condition_id FROM (candidates) AS ms_prcs_cand WHERE EXISTS (user select)``, where the
    user's ``:business_unit`` etc. become ``ms_prcs_cand.*`` columns (so each candidate row brings its
    own values) and ``:as_of_date`` stays a real bind parameter. The candidate columns are relabelled
    with the reserved ``ms_prcs_`` prefix so that an unqualified column the user mistyped is an error
    instead of silently correlating to a candidate column of the same name.

    Public so that tests and ``--dry-run`` tooling can look at the SQL without running it. Raises
    :class:`SqlConditionFailed` if sqlglot cannot transpile the statement (only possible for a
    :class:`ValidatedSql` that did not come from ``validate_sql``), ``ValueError`` for caller mistakes.
    """
    if dialect not in _SUPPORTED:
        raise ValueError(
            f"SQL conditions cannot be evaluated on {dialect} (supported: {', '.join(_SUPPORTED)})"
        )
    exists_sql, uses_as_of = _exists_sql(statement, dialect)
    exists = sa.text(exists_sql)
    if uses_as_of:
        exists = exists.bindparams(sa.bindparam(_AS_OF_PARAM, value=as_of, type_=sa.Date))

    source = candidates.subquery(f"{_PREFIX}src")
    missing = [name for name in CANDIDATE_COLUMNS if name not in source.c]
    if missing:
        raise ValueError(f"candidates must have columns labelled {', '.join(missing)}")
    cand = sa.select(*(source.c[name].label(f"{_PREFIX}{name}") for name in CANDIDATE_COLUMNS)).subquery(
        _CAND
    )
    condition_id = cand.c[f"{_PREFIX}condition_id"]
    return sa.select(condition_id).where(exists).order_by(condition_id)


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


def met_condition_ids(
    connection: sa.Connection,
    statement: ValidatedSql,
    candidates: sa.Select[Any],
    as_of: datetime.date,
    timeout_s: float,
) -> list[int]:
    """Ids of the ``candidates`` whose statement returns a row, evaluated in one read-only query.

    Runs inside a savepoint that is rolled back even on success, so nothing the statement might have
    done survives, and a failure (:class:`SqlConditionFailed`) leaves the caller's transaction as it was.
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    dialect = connection.dialect.name
    query = evaluation_query(statement, candidates, as_of, dialect)

    guard = _sqlite_guard if dialect == "sqlite" else _postgres_guard
    savepoint = connection.begin_nested()
    try:
        with guard(connection, timeout_s) as timed_out:
            try:
                rows = connection.execute(query).scalars().all()
            except DBAPIError as err:
                if timed_out(err):
                    raise SqlConditionFailed(
                        statement.source, f"timed out after {timeout_s:g}s", timed_out=True
                    ) from err
                raise SqlConditionFailed(statement.source, _reason(err)) from err
    finally:
        # Never release: a rolled-back savepoint also undoes SET LOCAL and anything a hole let through.
        savepoint.rollback()
    return [int(row) for row in rows]


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


@contextmanager
def _postgres_guard(connection: sa.Connection, timeout_s: float) -> Iterator[Callable[[DBAPIError], bool]]:
    """Read-only and a statement timeout, both scoped to the savepoint the caller opened.

    ``transaction_read_only`` may be switched *on* at any point, even inside a subtransaction after the
    outer transaction has written; PostgreSQL only refuses switching it back off there. Both settings are
    ``SET LOCAL``-scoped and reverted when the savepoint is rolled back, so the caller's transaction is
    read-write again afterwards with its own timeout.
    """
    millis = max(1, math.ceil(timeout_s * 1000))
    connection.exec_driver_sql("SET LOCAL transaction_read_only = on")
    connection.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": f"{millis}ms"})

    def timed_out(err: DBAPIError) -> bool:
        return _sqlstate(err) == _PG_QUERY_CANCELED and "statement timeout" in str(err.orig)

    yield timed_out


@contextmanager
def _sqlite_guard(connection: sa.Connection, timeout_s: float) -> Iterator[Callable[[DBAPIError], bool]]:
    """``PRAGMA query_only`` and a deadline checked by SQLite's progress handler, undone in ``finally``.

    Neither is transactional in SQLite, so rolling back the savepoint would not undo them. The progress
    handler is cleared afterwards (sqlite3 cannot report a previous one to restore); query_only is put
    back to what it was.
    """
    raw: Any = connection.connection.dbapi_connection
    set_progress_handler = getattr(raw, "set_progress_handler", None)
    if set_progress_handler is None:
        raise ValueError(
            "the SQLite driver offers no set_progress_handler; SQL conditions need it for time limits"
        )
    previous = connection.exec_driver_sql("PRAGMA query_only").scalar()
    deadline = time.monotonic() + timeout_s
    expired = False

    def progress() -> int:
        nonlocal expired
        if time.monotonic() > deadline:
            expired = True
            return 1  # non-zero interrupts the running statement with SQLITE_INTERRUPT
        return 0

    def timed_out(err: DBAPIError) -> bool:
        return expired

    connection.exec_driver_sql("PRAGMA query_only = ON")
    try:
        set_progress_handler(progress, _PROGRESS_STEPS)
        try:
            yield timed_out
        finally:
            set_progress_handler(None, 0)
    finally:
        connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if previous else 'OFF'}")
