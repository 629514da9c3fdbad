"""The benchmark's small version, as a correctness check only (no timing): on the benchmark's data, a real
engine run leaves exactly the end state of the honest floor (``benchmarks.floor``): the same milestones and
conditions with the same statuses and dates, the same StatusChange rows and the same feed entries.

The floor runs first inside a transaction that is rolled back, so both see the same generated rows in the
one test database each backend gets.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from benchmarks.endstate import differences, end_state
from benchmarks.floor import Unsupported, run_floor
from benchmarks.generate import AS_OF, generate
from ms_prcs.approvals.models import MilestoneWorkflow
from ms_prcs.engine import RunControl, process
from ms_prcs.settings import Settings

MILESTONES = 10_000


@pytest.mark.slow
def test_engine_leaves_the_floors_end_state(engine: sa.Engine, db_url: str) -> None:
    generate(engine, MILESTONES, seed=7, units=3)
    with engine.connect() as conn:
        txn = conn.begin()
        before = end_state(conn, AS_OF)
        stats = run_floor(conn, AS_OF)
        expected = end_state(conn, AS_OF)
        txn.rollback()
    assert stats.passes > 2  # chains were followed
    assert stats.sql_statements > 10  # one statement per distinct SQL text
    assert expected["milestones_completed"] > MILESTONES // 3
    assert expected["audit_rows"] == before["audit_rows"] + stats.audit_rows
    assert expected["feed_rows"] == before["feed_rows"] + stats.feed_entries > 0

    # small chunks, so chains cross chunk boundaries as they do at a million milestones
    result = process(engine, RunControl(as_of=AS_OF), Settings(db_url=db_url, chunk_size=1_500))

    with engine.connect() as conn:
        found = end_state(conn, AS_OF)
    assert differences(expected, found) == []
    assert result.milestones_completed == stats.milestones
    assert sum(result.conditions_completed.values()) == stats.audit_rows - stats.milestones  # one row each
    assert result.conditions_completed["SQL"] > 0
    assert not result.has_errors


def test_the_floor_refuses_rules_it_does_not_model(engine: sa.Engine) -> None:
    generate(engine, 40, seed=3, units=1)
    with engine.begin() as conn:
        conn.execute(sa.insert(MilestoneWorkflow), [{"milestone_pk": 2, "step": 1, "sub_step": 0}])
    with engine.connect() as conn, conn.begin(), pytest.raises(Unsupported, match="milestone_workflow"):
        run_floor(conn, AS_OF)
