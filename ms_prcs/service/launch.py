"""Runs started over HTTP go on in their own process: ``python -m ms_prcs.service.launch REQUEST_ID``.

The request answers as soon as the run holds its lock (or was refused): :func:`start` records a
``run_request``, starts this module in a new process, and watches the database until that process's
``process_run`` row appears (found by host and pid, which the engine records), the request ends, or a few
seconds pass. The run itself is :func:`ms_prcs.engine.process` with the run lock of every other run: one
live run per business unit, whoever started it (CLI, scheduler, HTTP). A dry run writes no run row; its
result is kept on the request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time

from sqlalchemy import select, update

from contracts.errors import MsPrcsError, RuleViolation
from contracts.identity_models import RunRequest
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import ProcessRun
from ms_prcs.db import make_engine, transaction
from ms_prcs.engine import RunControl, process
from ms_prcs.engine.runlock import this_host
from ms_prcs.engine.scope import resolve
from ms_prcs.service.context import ServiceContext
from ms_prcs.settings import Settings

log = logging.getLogger("ms_prcs.service.runs")

API_TRIGGER = "api"
STARTING, RUNNING, DONE, REFUSED, FAILED = "Starting", "Running", "Done", "Refused", "Failed"
ENDED = frozenset({DONE, REFUSED, FAILED})


class RunRefused(RuleViolation):
    """The run's process was refused (another run holds its scope): the engine's words, unchanged."""

    def __init__(self, message: str) -> None:
        super().__init__("run", message)
        self.message = message


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def control_of(data: dict[str, object]) -> RunControl:
    return RunControl(
        as_of=dt.date.fromisoformat(str(data["as_of"])),
        business_units=tuple(str(b) for b in data.get("business_units") or ()),  # type: ignore[attr-defined]
        contract=ContractKey.parse(str(data["contract"])) if data.get("contract") else None,
        milestone=MilestoneKey.parse(str(data["milestone"])) if data.get("milestone") else None,
        dry_run=bool(data.get("dry_run")),
        trigger=API_TRIGGER,
    )


def start(ctx: ServiceContext, control: RunControl, user: str, wait_s: float = 10.0) -> RunRequest:
    """Start ``control`` in a new process for ``user``; returns the request once the run holds its lock, is
    done, or ``wait_s`` passed. Unknown scope keys are refused here (NotFound), a locked scope by the run's
    process (:class:`RunRefused`)."""
    with ctx.engine.connect() as conn, conn.begin():
        resolve(conn, control)  # NotFound for an unknown business unit, contract or milestone
    with ctx.transaction() as session:
        row = RunRequest(
            requested_by=user, requested_at=_now(), run_control=json.dumps(control.to_json()), state=STARTING
        )
        session.add(row)
        session.flush()
        request_id = row.id
    env = {**os.environ, "MS_PRCS_DB": ctx.settings.db_url}
    child = subprocess.Popen(
        [sys.executable, "-m", "ms_prcs.service.launch", str(request_id)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # the run goes on if the server stops
    )
    threading.Thread(target=child.wait, name=f"run-request-{request_id}", daemon=True).start()  # reaps it
    deadline = time.monotonic() + wait_s
    while (
        not _settled(ctx, request_id, child.pid) and time.monotonic() < deadline and child.poll() in (None, 0)
    ):
        time.sleep(0.05)
    with ctx.transaction() as session:
        found = session.get(RunRequest, request_id)
        assert found is not None
    if found.state == REFUSED:
        raise RunRefused(found.error or "refused")
    return found


def _settled(ctx: ServiceContext, request_id: int, pid: int) -> bool:
    """Whether the request ended or its run holds the lock (then its process instance is noted, unless the
    run's own process already recorded its end: the update is conditional)."""
    with ctx.transaction() as session:
        state = session.scalar(select(RunRequest.state).where(RunRequest.id == request_id))
        if state in ENDED:
            return True
        pi = session.scalar(
            select(ProcessRun.process_instance).where(ProcessRun.host == this_host(), ProcessRun.pid == pid)
        )
        if pi is None:
            return False
        session.execute(
            update(RunRequest)
            .where(RunRequest.id == request_id, RunRequest.state.not_in(ENDED))
            .values(process_instance=pi, state=RUNNING)
        )
        return True


def run(request_id: int, settings: Settings) -> int:
    """The run's process: runs the request's run control and records how it went on the request."""
    engine = make_engine(settings.db_url)
    try:
        with transaction(engine) as session:
            request = session.get(RunRequest, request_id)
            if request is None:
                log.error("run request %s does not exist", request_id)
                return 2
            control = control_of(json.loads(request.run_control))
            request.pid, request.state = os.getpid(), RUNNING if control.dry_run else STARTING
        values: dict[str, object]
        try:
            result = process(engine, control, settings)
            values = {
                "state": DONE,
                "process_instance": result.process_instance,
                "result": json.dumps(result.to_json()),
            }
        except MsPrcsError as exc:
            values = {"state": REFUSED, "error": str(exc)}
        except Exception as exc:  # recorded for whoever watches the request, then re-raised
            values = {"state": FAILED, "error": f"{type(exc).__name__}: {exc}"}
            with transaction(engine) as session:
                session.execute(
                    update(RunRequest).where(RunRequest.id == request_id).values(**values, ended_at=_now())
                )
            raise
        with transaction(engine) as session:
            session.execute(
                update(RunRequest).where(RunRequest.id == request_id).values(**values, ended_at=_now())
            )
        return 0 if values["state"] == DONE else 1
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return run(int(argv[0]), Settings.from_env())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
