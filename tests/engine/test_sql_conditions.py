"""SQL conditions in a run: success, failure, timeout, rule violations, and one query per statement text."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from contracts.keys import get_milestone
from contracts.models import MilestoneCondition
from contracts.status import RequiredConditions
from tests.engine.world import World, date_spec, day, run, sql_spec

ON_ACTIVE_CONTRACT = (
    "SELECT 1 FROM contract WHERE business_unit = :business_unit AND contract_num = :contract_num"
    " AND status = 'Active'"
)
SLOW = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 1000000000000)"
    " SELECT 1 FROM cnt WHERE x = 0"
)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


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
