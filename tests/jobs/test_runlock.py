"""One active run per business unit, enforced by the database: refused or waiting, dead holders taken over."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from contracts.errors import RunLocked
from contracts.models import ProcessRun
from ms_prcs.db import make_engine
from ms_prcs.engine import Outcome, RunControl, process, runlock
from ms_prcs.settings import Settings
from tests.conftest import CliInvoke
from tests.engine.bulk import AS_OF, build
from tests.jobs.helpers import hold_lock, lock_rows, messages, runs

HOST = socket.gethostname()


def test_two_runs_started_at_once_over_one_scope_exactly_one_proceeds(db_url: str) -> None:
    engine = make_engine(db_url)
    world = build(engine, contracts=30)
    settings = Settings(db_url=db_url, chunk_size=50)
    attempted = threading.Event()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def one_run() -> None:
        start.wait()
        try:
            # the winner holds its lock until the loser has tried (its first chunk waits here)
            result = process(
                engine,
                RunControl(AS_OF, ("US001", "US002")),
                settings,
                lambda *_: attempted.wait(30),
            )
            outcomes.append(result)
        except RunLocked as exc:
            outcomes.append(exc)
        finally:
            attempted.set()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    refused = [o for o in outcomes if isinstance(o, RunLocked)]
    done = [o for o in outcomes if not isinstance(o, RunLocked)]
    assert len(refused) == 1 and len(done) == 1
    winner = runs(engine)
    assert len(winner) == 1  # the refused run wrote nothing, not even its run row
    assert refused[0].process_instance == winner[0].process_instance
    assert str(refused[0]).startswith(
        f"business unit US001 is being processed by run {winner[0].process_instance}"
    )
    assert winner[0].outcome == "Success"
    assert lock_rows(engine) == []
    assert world.milestones > 0
    engine.dispose()


def test_a_second_run_is_refused_naming_the_active_run_and_changes_nothing(
    db_url: str, cli: CliInvoke
) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    holder = hold_lock(engine, ("US002",))
    row = runs(engine)[0]

    result = cli("run", "--bu", "US001", "--bu", "US002", "--as-of", str(AS_OF))

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: business unit US002 is being processed by run {holder} (started {row.started_at},"
        f" host {HOST}, pid {row.pid}); use --wait to wait for it\n"
    )
    assert len(runs(engine)) == 1
    assert lock_rows(engine) == [("US002", holder)]

    # a run over another unit goes ahead, and a run over all units needs every unit, so it is refused
    assert cli("run", "--bu", "US003", "--as-of", str(AS_OF)).exit_code == 0
    assert cli("run", "--as-of", str(AS_OF)).exit_code == 1
    engine.dispose()


def test_wait_proceeds_once_the_holder_lets_go(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    holder = hold_lock(engine, ("US001",))

    def let_go() -> None:
        time.sleep(1.5)
        with engine.connect() as conn:
            runlock.release(conn, holder)

    releaser = threading.Thread(target=let_go)
    releaser.start()
    began = time.monotonic()
    result = cli("run", "--bu", "US001", "--as-of", str(AS_OF), "--wait")
    releaser.join()

    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - began >= 1.0
    held, waited = runs(engine)  # (PostgreSQL sequences keep the numbers of the refused attempts)
    assert held.process_instance == holder and waited.outcome == "Success"
    assert f"Process instance {waited.process_instance}: Success" in result.stdout
    assert lock_rows(engine) == []
    engine.dispose()


def test_wait_timeout_gives_up_with_the_holder_named(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    holder = hold_lock(engine, ("US001",))
    result = cli("run", "--bu", "US001", "--as-of", str(AS_OF), "--wait-timeout", "0.5")
    assert result.exit_code == 1
    assert f"is being processed by run {holder} " in result.stderr
    assert result.stderr.endswith("still held after waiting 0.5 s\n")
    engine.dispose()


def test_a_run_with_a_stale_heartbeat_on_another_host_is_marked_died_and_taken_over(
    db_url: str, cli: CliInvoke
) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=900)
    dead = hold_lock(engine, ("US001", "US002"), host="elsewhere", pid=4242, heartbeat=old)

    result = cli("run", "--bu", "US001", "--as-of", str(AS_OF))

    assert result.exit_code == 0, result.stderr
    died, new = runs(engine)
    assert (died.outcome, new.outcome) == ("Died", "Success")
    assert died.ended_at is not None
    [(severity, text)] = messages(engine, dead)
    assert severity == "error"
    assert text.startswith("run detected dead at ") and f"by run {new.process_instance} (host {HOST}," in text
    assert text.endswith(
        f"its last heartbeat ({old}) is older than 600 s; run {new.process_instance} took over its lock"
    )
    assert lock_rows(engine) == []  # the dead run's US002 row went with its US001 row

    listed = cli("runs", "list")
    assert "Died" in listed.stdout
    engine.dispose()


def test_a_fresh_heartbeat_on_another_host_is_alive(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    holder = hold_lock(engine, ("US001",), host="elsewhere", pid=4242)
    result = cli("run", "--bu", "US001", "--as-of", str(AS_OF))
    assert result.exit_code == 1
    assert f"processed by run {holder} " in result.stderr and "host elsewhere, pid 4242" in result.stderr
    engine.dispose()


def test_heartbeat_limit_comes_from_the_environment(
    db_url: str, cli: CliInvoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=120)
    hold_lock(engine, ("US001",), host="elsewhere", pid=4242, heartbeat=old)
    assert cli("run", "--bu", "US001", "--as-of", str(AS_OF)).exit_code == 1
    monkeypatch.setenv("MS_PRCS_HEARTBEAT_LIMIT", "60")
    assert cli("run", "--bu", "US001", "--as-of", str(AS_OF)).exit_code == 0
    assert [r.outcome for r in runs(engine)] == ["Died", "Success"]
    engine.dispose()


def test_dry_runs_take_no_lock(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    hold_lock(engine, ("US001",))
    result = cli("run", "--bu", "US001", "--as-of", str(AS_OF), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Dry run" in result.stdout
    engine.dispose()


def test_the_heartbeat_thread_keeps_a_long_run_alive(db_url: str) -> None:
    engine = make_engine(db_url)
    pi = hold_lock(engine, ("US001",), heartbeat=dt.datetime(2000, 1, 1))
    with runlock.Heartbeat(engine, pi, 0.1, lambda: dt.datetime(2030, 1, 1)):
        time.sleep(0.5)
    with engine.connect() as conn:
        beat = conn.scalar(sa.select(ProcessRun.heartbeat_at))
    assert beat == dt.datetime(2030, 1, 1)
    assert Outcome.DIED.value == "Died"
    engine.dispose()
