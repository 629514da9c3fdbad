"""``--workers 2`` on PostgreSQL ends in the same database as one worker, cross-unit chains included (the
ranges themselves: tests/engine/test_workers_ranges.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.models import FeedEntry, Milestone, MilestoneCondition, StatusChange
from ms_prcs.db import make_engine
from ms_prcs.engine import RunControl, process
from ms_prcs.settings import Settings
from tests.engine.bulk import AS_OF, build
from tests.jobs.helpers import lock_rows, runs

CONTRACTS = 240


def _world(engine: sa.Engine) -> None:
    """The bulk world (three units, chains inside contracts) plus chains across units: every seventh
    contract's MS003 waits on MS004 of the next contract, which sits in another business unit."""
    with engine.begin() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    build(engine, contracts=CONTRACTS, per_contract=10)
    with engine.begin() as conn:
        for k in range(1, CONTRACTS, 7):
            conn.execute(
                sa.update(MilestoneCondition)
                .where(MilestoneCondition.milestone_pk == (k - 1) * 10 + 3)
                .values(ref_milestone_pk=k * 10 + 4)
            )
    with engine.connect() as conn:
        # fresh statistics, as autovacuum would have them by night: without them the chain pass of a run
        # over some business units gets a plan that takes a second per pass
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def _state(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "milestones": conn.execute(
                sa.select(Milestone.id, Milestone.status, Milestone.completed_on).order_by(Milestone.id)
            ).all(),
            "conditions": conn.execute(
                sa.select(
                    MilestoneCondition.id,
                    MilestoneCondition.condition_status,
                    MilestoneCondition.completed_on,
                ).order_by(MilestoneCondition.id)
            ).all(),
            "status_changes": Counter(
                conn.execute(
                    sa.select(StatusChange.object_type, StatusChange.object_pk, StatusChange.new_status)
                ).all()
            ),
            "feed": set(conn.execute(sa.select(FeedEntry.kind, FeedEntry.dedupe_key)).all()),
        }


@pytest.mark.slow
def test_two_workers_give_the_same_database_as_one(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("workers run on PostgreSQL")
    engine = make_engine(db_url)
    settings = Settings(db_url=db_url, chunk_size=97)
    control = RunControl(AS_OF)

    _world(engine)
    one = process(engine, control, settings)
    expected = _state(engine)

    _world(engine)
    two = process(engine, control, settings, workers=2)
    got = _state(engine)

    assert got == expected
    assert sum(1 for _, status, _ in got["milestones"] if status == "Completed") == one.milestones_completed
    assert (two.milestones_completed, dict(two.conditions_completed)) == (
        one.milestones_completed,
        dict(one.conditions_completed),
    )
    assert two.milestones_processed == one.milestones_processed
    assert two.feed_entries == one.feed_entries
    [row] = runs(engine)
    assert (row.outcome, row.milestones_completed) == ("Success", one.milestones_completed)
    assert lock_rows(engine) == []
    engine.dispose()
