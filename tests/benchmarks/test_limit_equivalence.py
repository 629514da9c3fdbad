"""The benchmark's small version, as a correctness check only (no timing): on the benchmark's data, a real
engine run completes exactly the milestones and conditions that the raw-SQL limit script completes.

The limit script runs first inside a transaction that is rolled back, so both see the same generated rows
in the one test database each backend gets.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from benchmarks.generate import AS_OF, generate
from benchmarks.limit import completions, run_limit
from ms_prcs.engine import RunControl, process
from ms_prcs.settings import Settings

MILESTONES = 10_000


@pytest.mark.slow
def test_engine_completes_what_the_limit_script_completes(engine: sa.Engine, db_url: str) -> None:
    generate(engine, MILESTONES, seed=7, units=3)
    with engine.connect() as conn:
        txn = conn.begin()
        stats = run_limit(conn, AS_OF)
        expected = completions(conn, AS_OF)
        txn.rollback()
    assert stats["passes"] > 2  # chains were followed
    assert expected["milestones"] > MILESTONES // 3

    # small chunks, so chains cross chunk boundaries as they do at a million milestones
    result = process(engine, RunControl(as_of=AS_OF), Settings(db_url=db_url, chunk_size=1_500))

    with engine.connect() as conn:
        assert completions(conn, AS_OF) == expected
    assert result.milestones_completed == expected["milestones"]
    assert sum(result.conditions_completed.values()) == expected["conditions"]
    assert result.conditions_completed["SQL"] > 0
    assert not result.has_errors
