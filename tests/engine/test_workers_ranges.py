"""A run split over workers in milestone id ranges (issue 14): the ranges tile the scope, each is claimed
once, a dead worker's range is taken again where it stopped, and ``--workers 2`` with a ``--join`` worker
(killed or not) ends in the same database as one worker, with the same audit and feed rows."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.models import (
    FeedEntry,
    Milestone,
    MilestoneCondition,
    ProcessMessage,
    ProcessRun,
    StatusChange,
)
from contracts.run_models import RunRange
from ms_prcs.db import make_engine
from ms_prcs.engine import RunControl, process, ranges, runlog
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import resolve
from ms_prcs.settings import Settings
from tests.conftest import CliInvoke
from tests.engine.bulk import AS_OF, build

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = 60
NOW = dt.datetime(2026, 11, 23, 22, 0)

# True and slow on purpose (a few tenths of a second on PostgreSQL): every chunk evaluates it once, so a run
# of 60 one-chunk ranges lasts long enough for a --join worker to start, and to be killed, in the middle.
SLOW_TRUE = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 600000)"
    " SELECT 1 FROM cnt WHERE x = 600000"
)


def _reset(engine: sa.Engine) -> None:
    """Empty every table, ids starting at 1 again, so the same world can be built twice in one test."""
    with engine.begin() as conn:
        names = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in names) + " RESTART IDENTITY CASCADE")
            )
            return
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for name in names:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
        if conn.scalar(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")):
            conn.exec_driver_sql("DELETE FROM sqlite_sequence")


def _world(engine: sa.Engine, sql_text: str | None = None) -> None:
    """The bulk world (three units, chains inside contracts) plus chains across contracts, so across
    ranges: every seventh contract's MS003 waits on MS004 of the next contract, in another business unit."""
    _reset(engine)
    build(engine, contracts=CONTRACTS, per_contract=10, sql_text=sql_text)
    with engine.begin() as conn:
        for k in range(1, CONTRACTS, 7):
            conn.execute(
                sa.update(MilestoneCondition)
                .where(MilestoneCondition.milestone_pk == (k - 1) * 10 + 3)
                .values(ref_milestone_pk=k * 10 + 4)
            )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def _state(engine: sa.Engine) -> dict[str, Any]:
    """Statuses and dates of every milestone and condition, and every audit and feed row counted."""
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
            "feed": Counter(conn.execute(sa.select(FeedEntry.kind, FeedEntry.dedupe_key)).all()),
        }


def _one_worker(engine: sa.Engine, db_url: str, sql_text: str | None = None) -> tuple[Any, dict[str, Any]]:
    _world(engine, sql_text)
    one = process(engine, RunControl(AS_OF), Settings(db_url=db_url, chunk_size=100_000, sql_timeout_s=30))
    return one, _state(engine)


def _planned(engine: sa.Engine, control: RunControl, size: int) -> int:
    """A run row and its ranges of ``size``, as a run with --workers writes them; returns the run."""
    with engine.connect() as conn, conn.begin():
        pi = runlog.start(conn, control, NOW)
        ctx = RunContext(conn, control, resolve(conn, control), pi, Tally(), NOW)
        ranges.plan(conn, ctx, size)
    return pi


def _ranges(engine: sa.Engine, pi: int) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(RunRange).where(RunRange.process_instance == pi).order_by(RunRange.range_no)
        ).all()


def test_ranges_tile_the_ready_milestones_of_the_scope_one_chunk_each(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=30)  # 300 milestones; the units' contracts are interleaved by id
    control = RunControl(AS_OF, business_units=("US002",))
    pi = _planned(engine, control, 40)
    with engine.connect() as conn:
        scope = resolve(conn, control)
        m = sa.inspect(Milestone).local_table
        ready = list(
            conn.scalars(
                sa.select(Milestone.id)
                .where(Milestone.status == "Ready", scope.predicate(m))
                .order_by(Milestone.id)
            )
        )
    rows = _ranges(engine, pi)
    assert len(ready) == 100
    assert len(rows) == math.ceil(len(ready) / 40) == 3
    assert (rows[0].lo_pk, rows[-1].hi_pk) == (ready[0], ready[-1])
    assert all(b.lo_pk == a.hi_pk + 1 for a, b in zip(rows, rows[1:], strict=False))  # contiguous
    assert [r.ready for r in rows] == [40, 40, 20]
    assert [sum(1 for i in ready if r.lo_pk <= i <= r.hi_pk) for r in rows] == [40, 40, 20]
    assert {(r.state, r.claims, r.after_pk) for r in rows} == {("open", 0, r.lo_pk - 1) for r in rows}
    engine.dispose()


CLAIMER = """
import json, sys
from ms_prcs.db import make_engine
from ms_prcs.engine import ranges
from ms_prcs.engine.process import utc_now
engine = make_engine(sys.argv[1])
got = []
with engine.connect() as conn:
    while (claim := ranges.claim(conn, int(sys.argv[2]), 600, utc_now())) is not None:
        got.append(claim.range_no)
        ranges.finish(conn, claim, utc_now())
print(json.dumps(got))
"""


def test_each_range_is_claimed_once_by_concurrent_processes(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=30)
    pi = _planned(engine, RunControl(AS_OF), 5)  # 60 ranges
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, db_url, str(pi)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    got = [json.loads(c.communicate(timeout=120)[0]) for c in claimers]
    assert [c.returncode for c in claimers] == [0, 0, 0]
    claimed = [n for one in got for n in one]
    assert sorted(claimed) == list(range(60))  # every range, none twice
    assert all(one == sorted(one) for one in got)  # each takes the next one
    assert {(r.state, r.claims) for r in _ranges(engine, pi)} == {("done", 1)}
    engine.dispose()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_workers_range_is_taken_again_where_it_stopped(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)  # 30 milestones
    pi = _planned(engine, RunControl(AS_OF), 10)  # 3 ranges
    with engine.connect() as conn:
        first = ranges.claim(conn, pi, 600, NOW)
        assert first is not None and (first.range_no, first.claims) == (0, 1)
        done_so_far = Tally(processed=4, milestones_completed=2, chunks=1)
        with conn.begin():
            # range 0: its worker died after one committed chunk; range 1: a live worker on another host;
            # range 2: a worker on another host not seen for longer than the limit
            conn.execute(
                sa.update(RunRange)
                .where(RunRange.process_instance == pi, RunRange.range_no == 0)
                .values(
                    pid=_dead_pid(),
                    after_pk=first.lo + 3,
                    counts=done_so_far.counts_json(),
                    milestones_completed=2,
                )
            )
            conn.execute(
                sa.update(RunRange)
                .where(RunRange.process_instance == pi, RunRange.range_no > 0)
                .values(state="claimed", claims=1, host="elsewhere", pid=1, heartbeat_at=NOW)
            )
            conn.execute(
                sa.update(RunRange)
                .where(RunRange.process_instance == pi, RunRange.range_no == 2)
                .values(heartbeat_at=NOW - dt.timedelta(seconds=601))
            )
        again = ranges.claim(conn, pi, 600, NOW)
        assert again is not None
        assert (again.range_no, again.claims, again.after) == (0, 2, first.lo + 3)
        assert (again.tally.processed, again.tally.milestones_completed, again.tally.chunks) == (4, 2, 1)
        assert again.tally.message_counts["warning"] == 1
        # the dead worker's claim is no longer good: a chunk of it would stop before doing anything
        with pytest.raises(ranges.ClaimLost), conn.begin():
            ranges.RangeHooks(first, ()).begin(
                RunContext(conn, RunControl(AS_OF), resolve(conn, RunControl(AS_OF)), pi, Tally(), NOW)
            )
        stale = ranges.claim(conn, pi, 600, NOW)
        assert stale is not None and (stale.range_no, stale.claims) == (2, 2)
        assert ranges.claim(conn, pi, 600, NOW) is None  # range 1's worker is alive
        texts = conn.scalars(
            sa.select(ProcessMessage.text).where(ProcessMessage.process_instance == pi)
        ).all()
    assert len(texts) == 2
    assert "range 0 (milestones 1..10) taken again" in texts[0] and "is gone" in texts[0]
    assert "range 2" in texts[1] and "older than 600 s" in texts[1]
    engine.dispose()


@pytest.mark.slow
def test_workers_in_ranges_give_the_same_database_as_one(db_url: str) -> None:
    """On SQLite the run works its ranges alone (one writer); on PostgreSQL with a second process."""
    engine = make_engine(db_url)
    one, expected = _one_worker(engine, db_url)
    _world(engine)
    two = process(engine, RunControl(AS_OF), Settings(db_url=db_url, chunk_size=37), workers=2)
    assert _state(engine) == expected
    assert (two.milestones_processed, two.milestones_completed, dict(two.conditions_completed)) == (
        one.milestones_processed,
        one.milestones_completed,
        dict(one.conditions_completed),
    )
    assert (two.feed_entries, two.outcome) == (one.feed_entries, one.outcome)
    assert two.chunks == math.ceil(one.milestones_processed / 37)  # one chunk per range, as one worker
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(ProcessRun).where(ProcessRun.process_instance == two.process_instance)
        ).one()
    assert (row.outcome, row.milestones_completed) == ("Success", one.milestones_completed)
    assert {(r.state, r.claims) for r in _ranges(engine, two.process_instance or 0)} == {("done", 1)}
    engine.dispose()


def _ms_prcs(db_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ms_prcs", "--db", db_url, "--json", "run", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "MS_PRCS_SQL_TIMEOUT": "30"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(engine: sa.Engine, query: sa.Select[Any], what: str, parent: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as conn:
            found = conn.execute(query).first()
        if found is not None:
            return found
        assert parent.poll() is None, parent.communicate()
        assert time.monotonic() < deadline, f"no {what} within a minute"
        time.sleep(0.02)


def _started_with_a_join(
    engine: sa.Engine, db_url: str
) -> tuple[subprocess.Popen[str], subprocess.Popen[str], int]:
    """``run --workers 2`` over 60 slow one-chunk ranges, and ``run --join`` on it once its ranges exist."""
    parent = _ms_prcs(db_url, "--as-of", str(AS_OF), "--workers", "2", "--chunk-size", "10")
    [pi] = _wait_for(engine, sa.select(RunRange.process_instance).limit(1), "ranges", parent)
    return parent, _ms_prcs(db_url, "--join", str(pi)), pi


def _signal_the_join(
    engine: sa.Engine, db_url: str, sig: signal.Signals
) -> tuple[subprocess.Popen[str], subprocess.Popen[str], int, int, str, str, tuple[str, str]]:
    """Start a run with a join, send ``sig`` to the join once it holds a range (most likely inside its
    chunk), and wait for both: (parent, joiner, process instance, the join's range, the parent's output and
    errors, the join's output and errors)."""
    parent, joiner, pi = _started_with_a_join(engine, db_url)
    try:
        held = sa.select(RunRange.range_no).where(RunRange.pid == joiner.pid, RunRange.state == "claimed")
        [range_no] = _wait_for(engine, held, "range claimed by the join", parent)
        time.sleep(0.2)  # most likely inside its chunk now; any moment will do
        joiner.send_signal(sig)
        joined = joiner.communicate(timeout=60)  # reaped: a zombie's pid would still look alive
        out, err = parent.communicate(timeout=300)
    finally:
        for child in (joiner, parent):
            if child.poll() is None:  # pragma: no cover - only if an assertion fired first
                child.kill()
                child.wait()
    return parent, joiner, pi, range_no, out, err, joined


@pytest.mark.slow
def test_two_workers_and_a_join_worker_give_the_same_database_as_one(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a run on SQLite cannot be joined (one writer)")
    engine = make_engine(db_url)
    one, expected = _one_worker(engine, db_url, SLOW_TRUE)
    _world(engine, SLOW_TRUE)
    parent, joiner, pi = _started_with_a_join(engine, db_url)
    out, err = parent.communicate(timeout=300)
    assert parent.returncode == 0, err
    joined_out, joined_err = joiner.communicate(timeout=60)
    assert joiner.returncode == 0, joined_err

    assert _state(engine) == expected
    run = json.loads(out)
    joined = json.loads(joined_out)
    assert joined["process_instance"] == pi and joined["ranges"] >= 1, "the join found nothing left to do"
    assert 0 < joined["milestones_completed"] < one.milestones_completed
    assert (run["milestones_processed"], run["milestones_completed"], run["conditions_completed"]) == (
        one.milestones_processed,
        one.milestones_completed,
        dict(one.conditions_completed),
    )
    assert (run["feed_entries"], run["outcome"]) == (one.feed_entries, "Success")
    rows = _ranges(engine, pi)
    assert {(r.state, r.claims) for r in rows} == {("done", 1)}
    assert len({r.pid for r in rows}) == 3  # the parent, its worker and the join all took ranges
    engine.dispose()


@pytest.mark.slow
def test_a_killed_join_workers_range_is_redone_exactly_once(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a run on SQLite cannot be joined (one writer)")
    engine = make_engine(db_url)
    one, expected = _one_worker(engine, db_url, SLOW_TRUE)
    _world(engine, SLOW_TRUE)
    parent, joiner, pi, range_no, out, err, _ = _signal_the_join(engine, db_url, signal.SIGKILL)
    assert parent.returncode == 0, err

    assert _state(engine) == expected  # exactly once: no audit or feed row twice, nothing missing
    run = json.loads(out)
    assert (run["milestones_processed"], run["milestones_completed"], run["conditions_completed"]) == (
        one.milestones_processed,
        one.milestones_completed,
        dict(one.conditions_completed),
    )
    assert run["feed_entries"] == one.feed_entries
    assert run["outcome"] == "Warning"
    assert any("taken again" in m["text"] and f"pid {joiner.pid})" in m["text"] for m in run["messages"])
    taken = {r.range_no: r for r in _ranges(engine, pi)}
    assert taken[range_no].claims == 2 and taken[range_no].pid != joiner.pid
    assert {r.state for r in taken.values()} == {"done"}
    engine.dispose()


@pytest.mark.slow
def test_ctrl_c_on_a_join_stops_after_its_chunk_and_hands_the_range_back(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a run on SQLite cannot be joined (one writer)")
    engine = make_engine(db_url)
    one, expected = _one_worker(engine, db_url, SLOW_TRUE)
    _world(engine, SLOW_TRUE)
    parent, joiner, pi, _, out, err, (joined_out, joined_err) = _signal_the_join(
        engine, db_url, signal.SIGINT
    )
    assert joiner.returncode == 0, joined_err
    assert "Traceback" not in joined_err
    assert json.loads(joined_out)["process_instance"] == pi
    assert parent.returncode == 0, err
    assert _state(engine) == expected  # the range it handed back was finished by the others, once
    assert {r.state for r in _ranges(engine, pi)} == {"done"}
    engine.dispose()


def test_join_refuses_what_it_cannot_help(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    unknown = cli("run", "--join", "999")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: process instance 999 does not exist\n")
    with_scope = cli("run", "--join", "1", "--bu", "US001", "--as-of", str(AS_OF))
    assert with_scope.exit_code == 2
    assert with_scope.stderr == (
        "Error: --join 1 works on that run's scope, as-of date and ranges: leave out --bu, --as-of\n"
    )
    ended = json.loads(cli("--json", "run", "--as-of", str(AS_OF)).stdout)["process_instance"]
    refused = cli("run", "--join", str(ended))
    assert refused.exit_code == 1
    if db_url.startswith("sqlite"):
        assert refused.stderr == (
            f"Error: process instance {ended}: SQLite has one writer: only a run on PostgreSQL can be joined\n"
        )
        engine.dispose()
        return
    assert refused.stderr == (
        f"Error: process instance {ended}: it has ended (Success); only a run that is Processing can be joined\n"
    )
    with engine.begin() as conn:  # a run still Processing, alive, without ranges (one worker)
        alive = runlog.start(conn, RunControl(AS_OF), dt.datetime.now(dt.UTC).replace(tzinfo=None))
    one_worker = cli("run", "--join", str(alive))
    assert (one_worker.exit_code, one_worker.stderr) == (
        1,
        f"Error: process instance {alive}: it does not share its scope in ranges; only a run started with"
        " --workers 2 or more can be joined\n",
    )
    with engine.begin() as conn:
        conn.execute(
            sa.update(ProcessRun).where(ProcessRun.process_instance == alive).values(pid=_dead_pid())
        )
    dead = cli("run", "--join", str(alive))
    assert dead.exit_code == 1 and "the run looks dead (its process" in dead.stderr
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(RunRange)) == 0  # refusals wrote nothing
    engine.dispose()
