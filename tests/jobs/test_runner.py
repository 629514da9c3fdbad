"""Jobs end to end: one real engine run per night through run_job (across DST), a job that raises does not
stop later ones, pre and post commands in PeopleSoft's order, and a job's night done once unless forced."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from contracts.models import ProcessRun
from jobs.config import JobSpec, load_jobs
from jobs.runner import run_job
from jobs.scheduler import Scheduler, add_nightly
from ms_prcs.db import make_engine
from ms_prcs.settings import Settings
from tests.conftest import CliInvoke
from tests.engine.bulk import AS_OF, build
from tests.jobs.helpers import hold_lock, runs, walk

BERLIN = ZoneInfo("Europe/Berlin")


def scheduled_runs(engine: sa.Engine) -> list[tuple[dt.date, str | None, str]]:
    with engine.connect() as conn:
        return [
            (r.as_of, r.job_name, r.outcome)
            for r in conn.execute(
                sa.select(ProcessRun)
                .where(ProcessRun.trigger == "schedule")
                .order_by(ProcessRun.process_instance)
            )
        ]


def test_the_scheduler_runs_the_engine_once_per_night_across_spring_forward(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    settings = Settings(db_url=db_url)
    spec = JobSpec(name="nightly", tz=BERLIN, at=dt.time(2, 30), business_units=("US001",))
    start = dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC)
    scheduler = Scheduler()
    with time_machine.travel(start, tick=False):
        add_nightly(scheduler, spec.at or dt.time(), spec.tz, spec.name, lambda: run_job(spec, settings))
    walk(start, 4, scheduler, step_minutes=5)
    assert scheduled_runs(engine) == [
        (dt.date(2026, 3, 28), "nightly", "Success"),
        (dt.date(2026, 3, 29), "nightly", "Success"),  # the night 02:30 does not exist: once, at 03:30
        (dt.date(2026, 3, 30), "nightly", "Success"),
        (dt.date(2026, 3, 31), "nightly", "Success"),
    ]
    engine.dispose()


def test_a_job_that_raises_does_not_stop_later_jobs(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    settings = Settings(db_url=db_url)
    bad = JobSpec(name="bad", tz=BERLIN, at=dt.time(1, 0), contract="US001/NOPE")  # NotFound every night
    good = JobSpec(name="good", tz=BERLIN, at=dt.time(1, 5))
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    scheduler = Scheduler()
    with time_machine.travel(start, tick=False):
        for spec in (bad, good):
            add_nightly(
                scheduler, spec.at or dt.time(), spec.tz, spec.name, lambda s=spec: run_job(s, settings)
            )
    walk(start, 3, scheduler, step_minutes=5)
    assert [(name, outcome) for _, name, outcome in scheduled_runs(engine)] == [("good", "Success")] * 3
    engine.dispose()


def test_post_commands_run_after_the_milestones_and_a_failing_pre_command_skips_the_run(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    settings = Settings(db_url=db_url)
    log = tmp_path / "order.txt"
    write = (sys.executable, "-c", f"import sys; open({str(log)!r}, 'a').write(sys.argv[1] + '\\n')")
    spec = JobSpec(
        name="with-billing",
        tz=BERLIN,
        pre=((*write, "pre"),),
        post=((*write, "billing"), (*write, "revenue")),
    )
    now = lambda: dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # noqa: E731
    result = run_job(spec, settings, now=now)
    assert result is not None and result.outcome == "Success"
    assert log.read_text() == "pre\nbilling\nrevenue\n"

    # the same night again: a no-op (no run row), and its commands do run (pre) but not the engine
    assert run_job(spec, settings, now=now) is None
    assert len(runs(engine)) == 1

    failing = JobSpec(
        name="broken",
        tz=BERLIN,
        pre=((sys.executable, "-c", "raise SystemExit(4)"),),
        post=((*write, "never"),),
    )
    assert run_job(failing, settings, now=now) is None
    assert len(runs(engine)) == 1
    assert "never" not in log.read_text()
    engine.dispose()


def test_a_locked_scope_skips_the_night_without_raising(db_url: str) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    hold_lock(engine, ("US001",))
    spec = JobSpec(name="nightly", tz=BERLIN, business_units=("US001",))
    assert run_job(spec, Settings(db_url=db_url)) is None
    assert len(runs(engine)) == 1
    engine.dispose()


def test_a_jobs_night_is_done_once_unless_forced(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=9)
    first = cli("run", "--job", "nightly", "--as-of", str(AS_OF))
    assert first.exit_code == 0, first.stderr

    again = cli("run", "--job", "nightly", "--as-of", str(AS_OF))
    assert again.exit_code == 0
    assert again.stdout == "job nightly already ran for 2026-11-23 in run 1; use --force to run again\n"
    assert len(runs(engine)) == 1

    assert (
        json.loads(cli("--json", "run", "--job", "nightly", "--as-of", str(AS_OF)).stdout)["already_ran"] == 1
    )
    other_day = cli("run", "--job", "nightly", "--as-of", "2026-11-24")
    other_job = cli("run", "--job", "weekly", "--as-of", str(AS_OF))
    forced = cli("run", "--job", "nightly", "--as-of", str(AS_OF), "--force")
    assert (other_day.exit_code, other_job.exit_code, forced.exit_code) == (0, 0, 0)
    assert "Process instance" in forced.stdout
    assert [(r.job_name, str(r.as_of)) for r in runs(engine)] == [
        ("nightly", "2026-11-23"),
        ("nightly", "2026-11-24"),
        ("weekly", "2026-11-23"),
        ("nightly", "2026-11-23"),
    ]
    listed = cli("runs", "list")
    assert listed.stdout.splitlines()[0].split()[:5] == [
        "process_instance",
        "as_of",
        "scope",
        "trigger",
        "job",
    ]
    engine.dispose()


def test_runs_list_json_carries_trigger_and_job(db_url: str, cli: CliInvoke) -> None:
    engine = make_engine(db_url)
    build(engine, contracts=3)
    spec = JobSpec(name="nightly", tz=BERLIN)
    run_job(spec, Settings(db_url=db_url), now=lambda: dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC))
    cli("run", "--as-of", str(AS_OF))
    rows = json.loads(cli("--json", "runs", "list").stdout)
    assert [(r["trigger"], r["job"]) for r in rows] == [("manual", ""), ("schedule", "nightly")]
    engine.dispose()


def test_workers_on_sqlite_fall_back_to_one_with_a_message(db_url: str, cli: CliInvoke) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the SQLite fallback")
    engine = make_engine(db_url)
    build(engine, contracts=3)
    result = cli("run", "--workers", "2", "--as-of", str(AS_OF))
    assert result.exit_code == 0
    assert result.stderr == "SQLite has one writer: running with 1 worker\n"
    engine.dispose()


def test_schedule_refuses_bad_options(cli: CliInvoke, tmp_path: Path) -> None:
    both = cli("schedule", "--at", "02:00", "--every-minutes", "5")
    assert both.exit_code == 2
    assert both.stderr == "Error: give exactly one of --at HH:MM and --every-minutes N (or --config FILE)\n"
    bad_time = cli("schedule", "--at", "25:99")
    assert bad_time.exit_code == 2 and "is not a time of the form HH:MM" in bad_time.stderr
    config = tmp_path / "jobs.yaml"
    config.write_text("jobs:\n  - name: a\n    at: '02:30'\n")
    mixed = cli("schedule", "--config", str(config), "--bu", "US001")
    assert mixed.exit_code == 2
    assert load_jobs(config)[0].name == "a"
