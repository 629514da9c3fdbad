"""One scheduled job, start to end: pre commands, the engine run, post commands.

PeopleSoft's order for the nightly batch is milestones before billing and revenue: a job's ``post``
commands (a billing system's own run, say) start only after the milestone run finished without errors,
so billing never works from a night whose milestones are half done. A ``pre`` command that fails (an
export the run depends on) skips the run: better no run than one over stale inputs.

Commands are argv lists run without a shell. Every outcome is logged; nothing here raises for a failed
command or a locked scope, because the scheduler must go on to the next job and the next night.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from contracts.errors import JobAlreadyRan, RunLocked
from contracts.keys import ContractKey, MilestoneKey
from jobs.config import JobSpec
from ms_prcs.db import SchemaMismatch, check_schema, make_engine
from ms_prcs.engine import Outcome, RunControl, RunResult, process
from ms_prcs.settings import Settings

log = logging.getLogger("ms_prcs.jobs")

SCHEDULE_TRIGGER = "schedule"


def job_control(spec: JobSpec, as_of: dt.date) -> RunControl:
    """The run control of one night of ``spec``: its scope, the as-of date, trigger ``schedule``."""
    return RunControl(
        as_of=as_of,
        business_units=spec.business_units,
        contract=ContractKey.parse(spec.contract) if spec.contract else None,
        milestone=MilestoneKey.parse(spec.milestone) if spec.milestone else None,
        trigger=SCHEDULE_TRIGGER,
        job_name=spec.name,
        force=spec.force,
    )


def run_job(
    spec: JobSpec,
    settings: Settings,
    should_stop: Callable[[], bool] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> RunResult | None:
    """Run ``spec`` once as of today in its time zone; returns the run's result, or None when there was no
    run (a pre command failed, the job already ran for that date, or another run holds the scope).

    ``now`` (aware) stands in for the clock, so a test can walk the job through nights."""
    as_of = (now() if now else dt.datetime.now(dt.UTC)).astimezone(spec.tz).date()
    if not _run_commands(spec, "pre", spec.pre):
        log.error("job %s: a pre command failed; the run as of %s is skipped", spec.name, as_of)
        return None
    engine = make_engine(settings.db_url)
    try:
        result = _run(engine, spec, settings, as_of, should_stop)
    finally:
        engine.dispose()
    if result is None:
        return None
    if result.has_errors or result.outcome in (Outcome.STOPPED, Outcome.FAILED):
        log.error(
            "job %s: run %s ended %s; post commands are skipped (milestones before billing and revenue)",
            spec.name,
            result.process_instance,
            result.outcome,
        )
        return result
    _run_commands(spec, "post", spec.post)
    return result


def _run(
    engine: sa.Engine,
    spec: JobSpec,
    settings: Settings,
    as_of: dt.date,
    should_stop: Callable[[], bool] | None,
) -> RunResult | None:
    try:
        check_schema(engine)
        result = process(engine, job_control(spec, as_of), settings, should_stop=should_stop)
    except JobAlreadyRan as exc:  # decided by the run under its lock: two schedulers cannot both run
        log.info(str(exc))
        return None
    except (RunLocked, SchemaMismatch) as exc:
        log.error("job %s: %s", spec.name, exc)
        return None
    log.info(
        "job %s: run %s %s as of %s, %d of %d Ready milestones completed",
        spec.name,
        result.process_instance,
        result.outcome,
        as_of,
        result.milestones_completed,
        result.milestones_processed,
    )
    return result


def _run_commands(spec: JobSpec, stage: str, commands: Sequence[Sequence[str]]) -> bool:
    """Run each command in order, stopping at the first that fails; True when all succeeded."""
    for argv in commands:
        try:
            code = subprocess.run(list(argv), check=False).returncode
        except OSError as exc:
            log.error("job %s: %s command %s could not start: %s", spec.name, stage, list(argv), exc)
            return False
        if code != 0:
            log.error("job %s: %s command %s failed with exit code %d", spec.name, stage, list(argv), code)
            return False
        log.info("job %s: %s command %s done", spec.name, stage, list(argv))
    return True
