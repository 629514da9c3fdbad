"""A run killed with SIGKILL is found dead by the next run, which finishes its work with exact counts; a
scheduler sent SIGTERM mid-run stops after the chunk, records the run Stopped and exits 0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from ms_prcs.db import make_engine
from tests.conftest import CliInvoke
from tests.engine.bulk import AS_OF, build, completed_twice
from tests.jobs.helpers import ROOT, SLOW_TRUE, child_env, completed, lock_rows, messages, runs


def _start(db_url: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ms_prcs", "--db", db_url, *args]
    return subprocess.Popen(
        command, env=child_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _until_something_committed(engine: sa.Engine, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while completed(engine) == 0:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run committed nothing within a minute"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_killed_run_is_marked_died_and_the_next_run_completes_its_work(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    world = build(engine, contracts=300, per_contract=10, sql_text=SLOW_TRUE)
    child = _start(db_url, "run", "--chunk-size", "50", "--as-of", str(AS_OF))
    try:
        _until_something_committed(engine, child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:  # pragma: no cover - only if an assertion fired first
            child.kill()
            child.wait()
    killed_at = completed(engine)
    assert 0 < killed_at < world.expected_completed
    [killed] = runs(engine)
    assert killed.outcome == "Processing" and killed.ended_at is None
    assert {pi for _, pi in lock_rows(engine)} == {killed.process_instance}  # it died holding its lock

    result = cli("--json", "run", "--chunk-size", "500", "--as-of", str(AS_OF))

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["milestones_completed"] == world.expected_completed - killed_at
    assert completed(engine) == world.expected_completed
    died, finisher = runs(engine)
    assert (died.outcome, finisher.outcome) == ("Died", "Success")
    assert died.milestones_completed + finisher.milestones_completed == world.expected_completed
    assert died.conditions_completed + finisher.conditions_completed == world.expected_conditions
    text = messages(engine, died.process_instance)[-1][1]
    assert f"by run {finisher.process_instance} " in text
    assert f"its process {died.pid} on host {died.host} is gone" in text
    with engine.connect() as conn:
        assert completed_twice(conn) == []
    assert lock_rows(engine) == []
    listed = cli("runs", "list")
    assert "Died" in listed.stdout.splitlines()[-1]  # newest first: the dead run is the last row
    engine.dispose()


@pytest.mark.slow
def test_sigterm_stops_the_scheduler_after_the_chunk_in_flight(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    world = build(engine, contracts=300, per_contract=10, sql_text=SLOW_TRUE)
    env_chunk = "50"
    command = [
        sys.executable, "-m", "ms_prcs", "--db", db_url, "schedule",
        "--every-minutes", "600", "--run-now", "--job", "often",
    ]  # fmt: skip
    child = subprocess.Popen(
        command,
        env={**child_env(), "MS_PRCS_CHUNK_SIZE": env_chunk},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _until_something_committed(engine, child)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:  # pragma: no cover
            child.kill()
            child.wait()
    assert child.returncode == 0, err.decode()
    assert b"scheduler stopped" in err
    [stopped] = runs(engine)
    assert (stopped.outcome, stopped.trigger, stopped.job_name) == ("Stopped", "schedule", "often")
    assert stopped.ended_at is not None
    assert stopped.milestones_completed == completed(engine) < world.expected_completed
    chunks = json.loads(stopped.counts)["chunks"]
    assert messages(engine, stopped.process_instance)[-1] == (
        "warning",
        f"stopped by signal after chunk {chunks}; the next run continues",
    )
    assert lock_rows(engine) == []

    # the as-of date of the stopped run is today's; the job's next run for that date finishes the rest
    # (a Stopped run does not count as done), after which nothing is left to complete
    result = cli("--json", "run", "--job", "often", "--as-of", str(stopped.as_of), "--chunk-size", "500")
    assert result.exit_code == 0, result.stderr
    assert (
        json.loads(result.stdout)["milestones_completed"]
        == completed(engine) - stopped.milestones_completed
        > 0
    )
    again = cli("--json", "run", "--as-of", str(stopped.as_of))
    assert json.loads(again.stdout)["milestones_completed"] == 0
    engine.dispose()
