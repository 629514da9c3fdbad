"""A run killed with SIGKILL in the middle loses no committed chunk, and the next run finishes the rest:
no milestone completed twice, and the two runs' counts add up exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from contracts.models import MilestoneCondition, ProcessRun, StatusChange
from ms_prcs.db import make_engine
from tests.engine.bulk import AS_OF, build, completed_twice
from tests.engine.world import run

# True, and slow on purpose (tens of milliseconds on both databases): every chunk runs it once, so a run
# of 60 chunks takes seconds and can be killed between two commits.
SLOW_TRUE = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 150000)"
    " SELECT 1 FROM cnt WHERE x = 150000"
)
ROOT = Path(__file__).resolve().parents[2]


def _completed(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM milestone WHERE status = 'Completed'")) or 0)


@pytest.mark.slow
def test_killed_run_loses_no_committed_chunk_and_the_next_run_finishes(db_url: str) -> None:
    engine = make_engine(db_url)
    world = build(engine, contracts=300, per_contract=10, sql_text=SLOW_TRUE)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MS_PRCS_SQL_TIMEOUT": "30"}
    command = [
        sys.executable,
        "-m",
        "ms_prcs",
        "--db",
        db_url,
        "run",
        "--chunk-size",
        "50",
        "--as-of",
        str(AS_OF),
    ]
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _completed(engine) == 0:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the run committed nothing within a minute"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:  # pragma: no cover - only if an assertion fired first
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    killed_at = _completed(engine)
    assert 0 < killed_at < world.expected_completed, "the run was not killed mid-way"
    with engine.connect() as conn:
        killed = conn.execute(sa.select(ProcessRun)).one()
    assert killed.outcome == "Processing" and killed.ended_at is None  # what a dead run looks like
    assert killed.milestones_completed == killed_at  # its counts match its committed chunks

    result = run(engine, chunk_size=500, sql_timeout_s=30)

    assert result.milestones_completed == world.expected_completed - killed_at
    assert _completed(engine) == world.expected_completed
    with engine.connect() as conn:
        runs = conn.execute(sa.select(ProcessRun.milestones_completed, ProcessRun.conditions_completed)).all()
        assert sum(m for m, _ in runs) == world.expected_completed
        assert sum(c for _, c in runs) == world.expected_conditions
        assert completed_twice(conn) == []
        audited = conn.scalar(
            sa.select(sa.func.count()).select_from(StatusChange).where(StatusChange.new_status == "Completed")
        )
        completed_conditions = conn.scalar(
            sa.select(sa.func.count())
            .select_from(MilestoneCondition)
            .where(MilestoneCondition.condition_status == "Completed")
        )
    assert completed_conditions == world.expected_conditions
    assert audited == world.expected_completed + world.expected_conditions
    engine.dispose()
