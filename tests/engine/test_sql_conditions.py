"""SQL conditions in a run: success, failure, timeout, rule violations, and one query per statement text."""

from __future__ import annotations

import collections
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import ValidatedSql
from contracts import milestones
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import MilestoneCondition, ProcessMessage
from contracts.status import RequiredConditions
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.engine.sqlconds import SqlStatements
from tests.conftest import CliInvoke
from tests.engine.world import AS_OF, RULES, WHO, World, date_spec, day, ref_spec, run, settings, sql_spec

ON_ACTIVE_CONTRACT = (
    "SELECT 1 FROM contract WHERE business_unit = :business_unit AND contract_num = :contract_num"
    " AND status = 'Active'"
)
SLOW = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)"
    " SELECT 1 FROM cnt WHERE x = 0"
)


def _activate(session: Session, key: str) -> None:
    from contracts.admin import set_contract_status
    from contracts.keys import ContractKey
    from contracts.status import ContractStatus
    from tests.engine.world import WHO

    set_contract_status(session, ContractKey.parse(key), ContractStatus.ACTIVE, WHO)


def test_sql_condition_with_binds_per_milestone(engine: sa.Engine, world: World, session: Session) -> None:
    active = world.contract("US001/K1")
    pending = world.contract("US001/K2")
    _activate(session, "US001/K1")
    on_active = world.milestone(active, "MS001", sql_spec(ON_ACTIVE_CONTRACT))
    on_pending = world.milestone(pending, "MS001", sql_spec(ON_ACTIVE_CONTRACT))
    world.commit()

    result = run(engine)

    assert world.status(on_active) == "Completed"
    assert world.status(on_pending) == "Ready"
    assert result.conditions_completed["SQL"] == 1
    assert result.message_counts["error"] == 0


def test_as_of_date_bind_and_bare_where(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec("WHERE :as_of_date >= DATE '2026-11-23'"))
    world.commit()

    run(engine, as_of=day(-1))
    assert world.status(ms) == "Ready"
    run(engine)
    assert world.status(ms) == "Completed"


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[collections.Counter[str]]:
    """Count the statements the engine sends, by text, while the block runs."""
    seen: collections.Counter[str] = collections.Counter()

    def count(_conn: object, _cur: object, statement: str, *_args: object) -> None:
        seen[statement] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_same_statement_text_runs_once_for_all_its_milestones(
    engine: sa.Engine, world: World, session: Session
) -> None:
    """Spacing and keyword case differ, the normalized statement is the same: one query for all 12."""
    keys = []
    for n in range(1, 5):
        contract = world.contract(f"US001/K{n}")
        _activate(session, f"US001/K{n}")
        lower_keywords = ON_ACTIVE_CONTRACT.replace("SELECT", "select").replace("WHERE", "where")
        for variant in (ON_ACTIVE_CONTRACT, lower_keywords, "  " + ON_ACTIVE_CONTRACT.replace(" ", "\n")):
            keys.append(world.milestone(contract, "MS001", sql_spec(variant)))
    world.commit()

    with _statements(engine) as seen:
        run(engine)

    user_queries = [s for s in seen if "EXISTS (SELECT 1 FROM contract" in s]
    assert len(user_queries) == 1
    assert seen[user_queries[0]] == 1
    assert {world.status(k) for k in keys} == {"Completed"}


def test_failing_statement_leaves_its_conditions_ready_and_the_run_goes_on(
    engine: sa.Engine, world: World
) -> None:
    k = world.contract("US001/K1")
    broken = world.milestone(k, "MS001", sql_spec("SELECT 1 FROM contract WHERE no_such_column = 1"))
    broken_too = world.milestone(k, "MS002", sql_spec("SELECT 1 FROM contract WHERE no_such_column = 1"))
    fine = world.milestone(k, "MS003", date_spec(day(0)))
    world.commit()

    result = run(engine)

    assert world.status(fine) == "Completed"
    assert (world.status(broken), world.condition_status(broken, 1)) == ("Ready", "Ready")
    assert world.status(broken_too) == "Ready"
    errors = [m for m in result.messages if m.severity == "error"]
    assert [m.object_key for m in errors] == ["US001/K1/MS001/1", "US001/K1/MS002/1"]
    assert errors[0].text.startswith("condition 1 (SQL) stays Ready: ")
    assert "no_such_column" in errors[0].text
    assert errors[0].text.endswith("[SQL: SELECT 1 FROM contract WHERE no_such_column = 1]")
    assert result.outcome == "Error"
    assert result.has_errors


def test_timeout_is_an_error_per_milestone(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    slow = world.milestone(k, "MS001", sql_spec(SLOW))
    fine = world.milestone(k, "MS002", date_spec(day(0)))
    world.commit()

    result = run(engine, sql_timeout_s=0.3)

    assert world.status(slow) == "Ready"
    assert world.status(fine) == "Completed"
    [error] = [m for m in result.messages if m.severity == "error"]
    assert error.object_key == "US001/K1/MS001/1"
    assert error.text.startswith("condition 1 (SQL) stays Ready: timed out after 0.3s [SQL: WITH RECURSIVE")


def test_failed_statement_is_not_retried_in_later_chunks(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    slow = [world.milestone(k, "MS001", sql_spec(SLOW)) for _ in range(3)]
    world.commit()

    with _statements(engine) as seen:
        result = run(engine, chunk_size=1, sql_timeout_s=0.2)

    assert sum(n for s, n in seen.items() if "WITH RECURSIVE" in s) == 1
    assert [m.object_key for m in result.messages if m.severity == "error"] == [str(k) for k in slow]


def test_sql_that_breaks_the_rules_is_an_error_not_a_crash(
    engine: sa.Engine, world: World, session: Session
) -> None:
    """The text was changed behind the Ready edit checks' back (a direct update): the run reports it."""
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec(ON_ACTIVE_CONTRACT), date_spec(day(0)))
    world.commit()
    condition = session.scalar(
        sa.select(MilestoneCondition).where(MilestoneCondition.milestone_pk == get_milestone(session, ms).id)
    )
    assert condition is not None
    condition.sql_text = "DELETE FROM contract"
    session.commit()

    result = run(engine)

    assert world.status(ms) == "Ready"
    assert world.condition_status(ms, 2) == "Completed"  # the Date condition is met all the same
    [error] = [m for m in result.messages if m.severity == "error"]
    assert error.text == (
        "condition 1 (SQL) stays Ready: SQL rule: only SELECT statements are allowed, found DELETE"
        " (line 1, column 6) [SQL: DELETE FROM contract]"
    )


def test_sql_and_date_with_one(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec(SLOW), date_spec(day(0)), required=RequiredConditions.ONE)
    world.commit()

    result = run(engine, sql_timeout_s=0.2)

    assert world.status(ms) == "Completed"  # the Date condition suffices
    assert result.has_errors  # and the failing statement is still reported


# -- isolation and limits (DESIGN §13, layers 2 and 3) ---------------------------------------------------
#
# The statements below are slipped past the parser on purpose (SqlStatements.trust): what they show is
# what the read-only connection, the role and the time limits hold by themselves.


def _smuggle(session: Session, key: MilestoneKey, text: str) -> None:
    """Replace the milestone's first condition's text behind the Ready edit checks' back."""
    condition = session.scalar(
        sa.select(MilestoneCondition).where(
            MilestoneCondition.milestone_pk == get_milestone(session, key).id,
            MilestoneCondition.condition_seq == 1,
        )
    )
    assert condition is not None
    condition.sql_text = text
    session.commit()


def _run_trusting(engine: sa.Engine, texts: list[str], **changes: object) -> RunResult:
    """A run whose SQL statements for ``texts`` skip the parser."""
    chosen = replace(settings(), **changes)
    sql = SqlStatements.for_run(engine, chosen)
    dialect = "sqlite" if engine.dialect.name == "sqlite" else "postgres"
    for text in texts:
        sql.trust(text, ValidatedSql(source=text, normalized=text, binds=frozenset(), dialect=dialect))
    return process(
        engine, RunControl(as_of=AS_OF), chosen, now=lambda: dt.datetime(2026, 11, 23, 22, 0), sql=sql
    )


def _run_log(engine: sa.Engine, process_instance: int | None) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(ProcessMessage.text)
                .where(ProcessMessage.process_instance == process_instance)
                .order_by(ProcessMessage.id)
            )
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_other_users_write_while_a_slow_condition_is_evaluated(
    db_url: str, engine: sa.Engine, world: World, session: Session
) -> None:
    """The chunk's write transaction holds SQLite's one write lock; the SQL conditions run before it, on
    their own connection, so a slow one keeps nobody out: a writer with a 0.2 s busy timeout gets in."""
    k = world.contract("US001/K1")
    slow = world.milestone(k, "MS001", sql_spec("SELECT 1"))
    fine = world.milestone(k, "MS002", date_spec(day(0)))
    world.commit()
    _smuggle(session, slow, SLOW)
    results: list[RunResult] = []
    runner = threading.Thread(target=lambda: results.append(_run_trusting(engine, [SLOW], sql_timeout_s=4.0)))
    started = time.monotonic()
    runner.start()
    time.sleep(1.0)  # the run is in its SQL condition by now (it takes 4 s)
    path = sa.engine.make_url(db_url).database
    assert path is not None
    other = sqlite3.connect(path, timeout=0.2)
    try:
        other.execute("UPDATE contract SET customer = 'written meanwhile'")
        other.commit()
    finally:
        other.close()
    assert runner.is_alive() and time.monotonic() - started < 3.5  # written while the statement ran
    runner.join()
    [result] = results
    assert world.status(slow) == "Ready"
    assert world.status(fine) == "Completed"
    [error] = [m for m in result.messages if m.severity == "error"]
    assert "stays Ready: timed out after 4s" in error.text


def test_a_statement_of_few_slow_steps_is_stopped_at_its_limit(
    engine: sa.Engine, world: World, session: Session
) -> None:
    """SQLite: each row costs two megabyte-long calls, so the progress handler (every thousand virtual machine
    steps) would let it run on; the watchdog stops it at the limit. PostgreSQL: its statement timeout."""
    if engine.dialect.name == "sqlite":
        text = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000)"
            " SELECT 1 FROM c WHERE length(randomblob(900000)) + length(randomblob(900000)) = 0"
        )
    else:
        text = "SELECT 1 WHERE CAST(pg_sleep(60) AS text) = ''"
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec("SELECT 1"))
    world.commit()
    _smuggle(session, ms, text)

    started = time.monotonic()
    result = _run_trusting(engine, [text], sql_timeout_s=1.0)

    # stopped at its 1 s limit, not after the statement's minute: the margin is the run's own time on a
    # loaded CI machine (over 2 s seen), so 10 s keeps the test from depending on the load
    assert time.monotonic() - started < 10.0
    assert world.status(ms) == "Ready"
    [error] = [m for m in result.messages if m.severity == "error"]
    assert error.text.startswith("condition 1 (SQL) stays Ready: timed out after 1s")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_huge_blob_is_refused_by_the_length_limit(
    engine: sa.Engine, world: World, session: Session
) -> None:
    """The issue's attack: a dozen 250 MB blobs, each one step nothing can interrupt. The reader's 1 MB
    length limit refuses the first at once."""
    text = "SELECT 1 WHERE " + " + ".join(["length(randomblob(250000000))"] * 12) + " > 0"
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec("SELECT 1"))
    world.commit()
    _smuggle(session, ms, text)

    started = time.monotonic()
    result = _run_trusting(engine, [text])

    # without the limit the twelve blobs run 14 s or more (the figure); the run itself takes well
    # under a second idle and a few seconds on a loaded CI machine, so 10 s tells the two apart either way
    assert time.monotonic() - started < 10.0
    assert world.status(ms) == "Ready"
    [error] = [m for m in result.messages if m.severity == "error"]
    assert "stays Ready: string or blob too big" in error.text


def test_the_runs_sql_budget_stops_sql_conditions_and_the_run_goes_on(
    engine: sa.Engine, world: World, session: Session
) -> None:
    """Five distinct statements of 0.5 s each, a budget of 1.2 s: the first ones time out on their own
    limit, then the budget is spent and the rest are reported as not evaluated; the Date condition
    completes all the same. How many fit in the budget depends on the machine's load (each timeout costs
    a little more than 0.5 s), so the test asserts the order, not the split."""
    if engine.dialect.name == "sqlite":
        texts = [SLOW.replace("x = 0", f"x = -{n}") for n in range(5)]
    else:
        texts = [f"SELECT {n} WHERE CAST(pg_sleep(30) AS text) = ''" for n in range(5)]
    k = world.contract("US001/K1")
    slow = [world.milestone(k, f"MS00{n}", sql_spec("SELECT 1")) for n in range(5)]
    fine = world.milestone(k, "MS009", date_spec(day(0)))
    world.commit()
    for key, text in zip(slow, texts, strict=True):
        _smuggle(session, key, text)

    started = time.monotonic()
    result = _run_trusting(engine, texts, sql_timeout_s=0.5, sql_budget_s=1.2)

    assert time.monotonic() - started < 10.0  # far below 5 x 30 s: the budget, not pg_sleep, ended it
    assert world.status(fine) == "Completed"
    assert {world.status(key) for key in slow} == {"Ready"}
    budget = [m for m in result.messages if m.text.startswith("SQL budget of 1.2s")]
    assert len(budget) == 1 and budget[0].severity == "error"
    timed_out = [m.object_key for m in result.messages if "timed out after 0.5s" in m.text]
    skipped = [m.object_key for m in result.messages if "not evaluated, the run's SQL budget" in m.text]
    assert 1 <= len(timed_out) <= 2  # 0.5 s each within 1.2 s: at most two fit whole
    assert timed_out + skipped == [str(key) for key in slow]  # in statement order, each reported once
    assert any(budget[0].text in text for text in _run_log(engine, result.process_instance))


@pytest.fixture
def canary(engine: sa.Engine) -> Iterator[str]:
    """A table that is on no allow-list, holding a secret; dropped afterwards (conftest truncates only the
    schema's own tables)."""
    secret = "s3cr3t-canary-value"
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE canary (secret TEXT)")
        conn.execute(sa.text("INSERT INTO canary VALUES (:s)"), {"s": secret})
    yield secret
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE canary")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1 FROM canary WHERE secret IS NOT NULL",
        "SELECT 1 WHERE CAST((SELECT secret FROM canary LIMIT 1) AS int) = 1",
        "SELECT 1 FROM ts_stat('SELECT to_tsvector(''simple'', secret) FROM canary') WHERE word = 'x'",
    ],
)
def test_postgres_role_refuses_a_table_off_the_allow_list_in_a_run(
    engine: sa.Engine, world: World, session: Session, canary: str, cli: CliInvoke, text: str
) -> None:
    """Past the parser on purpose: the database refuses, the run log and ``milestone show`` carry its
    message, and no data from the canary (the CAST-leak would print the secret in its error)."""
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", sql_spec("SELECT 1"))
    world.commit()
    _smuggle(session, ms, text)

    result = _run_trusting(engine, [text])

    assert world.status(ms) == "Ready"
    log = _run_log(engine, result.process_instance)
    [error] = [line for line in log if line.startswith("condition 1 (SQL)")]
    assert "stays Ready: permission denied for table canary" in error
    assert not any(canary in line for line in log)
    # milestone show runs the condition the same way; the text is refused by the parser there, or, if
    # the parser let it through, by the role: never the secret
    shown = cli("milestone", "show", str(ms), "--as-of", str(AS_OF))
    assert shown.exit_code == 0, shown.output
    assert canary not in shown.output


@pytest.mark.parametrize("required", [RequiredConditions.ONE, RequiredConditions.ALL])
@pytest.mark.parametrize("sql_first", [True, False])
def test_sql_conditions_and_chains_across_chunks(
    engine: sa.Engine, world: World, required: RequiredConditions, sql_first: bool
) -> None:
    """One milestone per chunk. The SQL verdicts are taken before each chunk's transaction, yet a milestone
    whose chain runs through another chunk ends the same either way: with the SQL condition first in id
    order, or completed by an earlier chunk's chain (ONE) and its SQL condition still evaluated in its own
    chunk."""
    k = world.contract("US001/K1")
    sql = sql_spec("SELECT 1 FROM contract WHERE contract_num = :contract_num")
    if sql_first:  # the tail has the lower id: made first, its reference added once the head exists
        tail = world.milestone(k, "MS001", sql, required=required, ready=False)
        head = world.milestone(k, "MS002", date_spec(day(0)))
        milestones.add_condition(world.session, tail, ref_spec(head), WHO)
        make_ready(world.session, tail, WHO, RULES)
    else:
        head = world.milestone(k, "MS001", date_spec(day(0)))
        tail = world.milestone(k, "MS002", ref_spec(head), sql, required=required)
    world.commit()

    result = run(engine, chunk_size=1)

    assert result.message_counts["error"] == 0
    assert world.status(head) == world.status(tail) == "Completed"
    assert {world.condition_status(tail, 1), world.condition_status(tail, 2)} == {"Completed"}
