"""A database where another process's run holds a business unit: the run lock's refusal, as a transcript.

Business units US001 and US002; run 12, started at 02:30 on the docs' frozen day by a process on host
``batch1`` (not this host, so its pid is not probed) whose heartbeat is ten seconds old, so it looks alive
to a run started at :data:`tests.docs.transcripts.FROZEN_AT`, and holds US002's ``run_lock`` row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from contracts.models import BusinessUnit, ProcessRun, RunLock

STARTED = dt.datetime(2026, 11, 23, 2, 30)
HEARTBEAT = dt.datetime(2026, 11, 23, 8, 59, 50)


def build(session: Session) -> None:
    session.add_all([BusinessUnit(business_unit="US001"), BusinessUnit(business_unit="US002")])
    session.add(
        ProcessRun(
            process_instance=12,
            as_of=STARTED.date(),
            trigger="schedule",
            job_name="nightly",
            started_at=STARTED,
            heartbeat_at=HEARTBEAT,
            host="batch1",
            pid=4711,
        )
    )
    session.flush()
    session.add(
        RunLock(business_unit="US002", process_instance=12, acquired_at=STARTED, host="batch1", pid=4711)
    )
    session.commit()
