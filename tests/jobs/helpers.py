"""Shared pieces of the jobs tests: a held run lock, and a look at the process monitor's rows."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine

from contracts.models import ProcessMessage, ProcessRun, RunLock
from jobs.scheduler import Scheduler
from ms_prcs.engine import RunControl, runlock, runlog
from ms_prcs.engine.process import utc_now
from tests.engine.bulk import AS_OF

ROOT = Path(__file__).resolve().parents[2]

# True, and slow on purpose (tens of milliseconds on both databases): every chunk runs it once, so a run of
# many chunks takes seconds and can be stopped or killed between two commits (as in tests/engine/test_kill).
SLOW_TRUE = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 150000)"
    " SELECT 1 FROM cnt WHERE x = 150000"
)


def hold_lock(
    engine: sa.Engine,
    units: tuple[str, ...],
    *,
    host: str | None = None,
    pid: int | None = None,
    heartbeat: dt.datetime | None = None,
) -> int:
    """Record a Processing run holding ``units``, as a live run would (this process, fresh heartbeat), or as
    a dead one would look (another pid, host or an old heartbeat)."""
    with engine.connect() as conn:
        pi = runlock.acquire(
            conn,
            units,
            lambda c: runlog.start(c, RunControl(AS_OF, units), utc_now()),
            runlock.LockPolicy(),
            utc_now,
        )
        with conn.begin():
            changes: dict[str, Any] = {}
            if host is not None:
                changes["host"] = host
            if pid is not None:
                changes["pid"] = pid
            if changes:
                conn.execute(sa.update(ProcessRun).where(ProcessRun.process_instance == pi).values(**changes))
                conn.execute(sa.update(RunLock).where(RunLock.process_instance == pi).values(**changes))
            if heartbeat is not None:
                conn.execute(
                    sa.update(ProcessRun)
                    .where(ProcessRun.process_instance == pi)
                    .values(heartbeat_at=heartbeat, started_at=heartbeat)
                )
    return pi


def runs(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(sa.select(ProcessRun).order_by(ProcessRun.process_instance)).all()


def lock_rows(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [
            (r.business_unit, r.process_instance)
            for r in conn.execute(sa.select(RunLock).order_by(RunLock.business_unit))
        ]


def messages(engine: sa.Engine, process_instance: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (m.severity, m.text)
            for m in conn.execute(
                sa.select(ProcessMessage)
                .where(ProcessMessage.process_instance == process_instance)
                .order_by(ProcessMessage.id)
            )
        ]


def completed(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM milestone WHERE status = 'Completed'")) or 0)


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MS_PRCS_SQL_TIMEOUT": "30"}


def walk(start: dt.datetime, days: int, scheduler: Scheduler, step_minutes: int = 1) -> None:
    """Move the clock itself (time-machine) from ``start`` through ``days`` days, running what is due."""
    with time_machine.travel(start, tick=False) as traveller:
        now = start
        scheduler.run_pending()
        while now < start + dt.timedelta(days=days):
            now += dt.timedelta(minutes=step_minutes)
            traveller.move_to(now)
            scheduler.run_pending()
