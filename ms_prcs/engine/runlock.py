"""The run lock: one live run per business unit, decided by the database (DESIGN 4, step 1).

A run inserts one ``run_lock`` row per business unit of its scope (every existing unit for a run over all
of them), in the same short transaction that records its ``process_run`` row. The business unit is the
primary key, so of two runs over one unit exactly one insert succeeds: the other transaction rolls back
whole, and a refused run leaves nothing behind, not even its run row. Holding all of its units or none,
a run can never deadlock with another over half its scope.

On a conflict the holder is read. A holder that is dead - its heartbeat older than the limit, or on this
host with its PID gone - is taken over in that same one transaction: its run is marked ``Died`` with a
message naming the run that found it, its lock rows are deleted (only its own, by process instance), and
ours are inserted. A live holder refuses the run with :class:`~contracts.errors.RunLocked`, or, when the
caller waits, is polled until it lets go. A run releases its rows when it ends, whatever the outcome.

While a run is alive, :class:`Heartbeat` refreshes ``process_run.heartbeat_at`` from a daemon thread on its
own connection, so one long chunk does not look like a dead run to the next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contracts.errors import RunLocked
from contracts.models import BusinessUnit, ProcessMessage, ProcessRun, RunLock
from contracts.schema import table_of
from ms_prcs.engine.control import Outcome, Severity

log = logging.getLogger("ms_prcs.engine.runlock")

_lock = table_of(RunLock)
_run = table_of(ProcessRun)
_message = table_of(ProcessMessage)

DEFAULT_HEARTBEAT_LIMIT_S = 600.0


def this_host() -> str:
    return socket.gethostname()[:255]


@dataclass(frozen=True)
class LockPolicy:
    """How a run treats a lock someone else holds.

    ``wait_s``: 0 refuses at once; a positive number polls every ``poll_s`` seconds for that long, then
    refuses; ``math.inf`` waits for as long as it takes. ``heartbeat_limit_s``: a holder whose heartbeat is
    older is dead.
    """

    heartbeat_limit_s: float = DEFAULT_HEARTBEAT_LIMIT_S
    wait_s: float = 0.0
    poll_s: float = 1.0


@dataclass(frozen=True)
class Holder:
    """A run that holds (or held, if it died) the lock on ``business_unit``."""

    business_unit: str
    process_instance: int
    host: str
    pid: int | None
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    outcome: str | None

    def describe(self) -> str:
        return f"started {self.started_at}, host {self.host}, pid {self.pid}"

    def death(self, now: dt.datetime, limit_s: float) -> str | None:
        """Why this holder is dead, or None while it looks alive.

        A run that is no longer Processing left its rows behind when it ended (killed between its last
        commit and its release): nothing to take over, only rows to delete.
        """
        if self.outcome != Outcome.PROCESSING.value:
            return f"it ended ({self.outcome}) without releasing its lock"
        if self.host == this_host() and self.pid is not None and not pid_alive(self.pid):
            return f"its process {self.pid} on host {self.host} is gone"
        beat = self.heartbeat_at or self.started_at
        if beat is None or (now - beat).total_seconds() > limit_s:
            return f"its last heartbeat ({beat}) is older than {limit_s:g} s"
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def units_to_lock(conn: sa.Connection, business_units: Sequence[str]) -> tuple[str, ...]:
    """The units a run locks: its own, or every existing one for a run over all business units."""
    if business_units:
        return tuple(sorted(set(business_units)))
    return tuple(conn.scalars(sa.select(BusinessUnit.business_unit).order_by(BusinessUnit.business_unit)))


def acquire(
    conn: sa.Connection,
    units: Sequence[str],
    start_run: Callable[[sa.Connection], int],
    policy: LockPolicy,
    now: Callable[[], dt.datetime],
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    when_locked: Callable[[sa.Connection], None] | None = None,
) -> int:
    """Record the run (``start_run`` inserts its row and returns its process instance) and lock ``units``,
    in one transaction; returns the process instance. Takes over dead holders; refuses live ones with
    :class:`RunLocked` after waiting as ``policy`` says. ``conn`` must not be in a transaction.

    ``when_locked`` runs in that same transaction once the lock rows are in: a check that must see every run
    that held the lock before (the once-a-night check of a job). When it raises, the transaction rolls back
    whole (no run row, no lock) and the error propagates."""
    deadline = monotonic() + policy.wait_s
    while True:
        at = now()
        try:
            with conn.begin():
                process_instance = start_run(conn)
                _insert(conn, process_instance, units, at)
                if when_locked is not None:
                    when_locked(conn)
            return process_instance
        except IntegrityError:
            pass  # someone holds one of the units: the whole transaction rolled back, our run row too
        with conn.begin():
            holders = _holders(conn, units)
        dead = {h.process_instance: h for h in holders if h.death(at, policy.heartbeat_limit_s)}
        if dead:
            taken = _take_over(conn, list(dead.values()), units, start_run, policy, at, when_locked)
            if taken is not None:
                return taken
            continue  # someone else took over first, or a unit was locked meanwhile: look again
        if not holders:
            continue  # released between our insert and our look: try again at once
        if monotonic() < deadline:
            sleep(min(policy.poll_s, max(deadline - monotonic(), 0.0)))
            continue
        first = holders[0]
        hint = (
            f"still held after waiting {policy.wait_s:g} s"
            if policy.wait_s > 0
            else "use --wait to wait for it"
        )
        raise RunLocked(first.business_unit, first.process_instance, first.describe(), hint)


def _take_over(
    conn: sa.Connection,
    dead: list[Holder],
    units: Sequence[str],
    start_run: Callable[[sa.Connection], int],
    policy: LockPolicy,
    at: dt.datetime,
    when_locked: Callable[[sa.Connection], None] | None = None,
) -> int | None:
    """One transaction: our run row, the dead runs marked Died (each with a message naming our run), their
    lock rows deleted, ours inserted. Returns our process instance, or None if a race undid it (rolled back)."""
    try:
        with conn.begin():
            process_instance = start_run(conn)
            for holder in dead:
                reason = holder.death(at, policy.heartbeat_limit_s)
                marked = conn.execute(
                    _run.update()
                    .where(
                        _run.c.process_instance == holder.process_instance,
                        _run.c.outcome == Outcome.PROCESSING.value,
                    )
                    .values(outcome=Outcome.DIED.value, ended_at=at)
                ).rowcount
                if marked:
                    conn.execute(
                        _message.insert().values(
                            process_instance=holder.process_instance,
                            severity=Severity.ERROR.value,
                            object_key="",
                            text=f"run detected dead at {at} by run {process_instance} (host {this_host()},"
                            f" pid {os.getpid()}): {reason}; run {process_instance} took over its lock",
                        )
                    )
                conn.execute(_lock.delete().where(_lock.c.process_instance == holder.process_instance))
                log.warning(
                    "run %s is dead (%s); run %s takes over",
                    holder.process_instance,
                    reason,
                    process_instance,
                )
            _insert(conn, process_instance, units, at)
            if when_locked is not None:
                when_locked(conn)
    except IntegrityError:
        return None
    return process_instance


def _insert(conn: sa.Connection, process_instance: int, units: Sequence[str], at: dt.datetime) -> None:
    if units:
        conn.execute(
            _lock.insert(),
            [
                {
                    "business_unit": bu,
                    "process_instance": process_instance,
                    "acquired_at": at,
                    "host": this_host(),
                    "pid": os.getpid(),
                }
                for bu in units
            ],
        )


def _holders(conn: sa.Connection, units: Sequence[str]) -> list[Holder]:
    rows = conn.execute(
        sa.select(
            _lock.c.business_unit,
            _lock.c.process_instance,
            _lock.c.host,
            _lock.c.pid,
            _run.c.started_at,
            _run.c.heartbeat_at,
            _run.c.outcome,
        )
        .select_from(_lock.outerjoin(_run, _run.c.process_instance == _lock.c.process_instance))
        .where(_lock.c.business_unit.in_(list(units)))
        .order_by(_lock.c.business_unit)
    )
    return [Holder(*row) for row in rows]


def release(conn: sa.Connection, process_instance: int) -> None:
    """Delete this run's lock rows (only its own: a run that was taken over must not free its successor's)."""
    if conn.in_transaction():
        conn.rollback()
    with conn.begin():
        conn.execute(_lock.delete().where(_lock.c.process_instance == process_instance))


class Heartbeat:
    """Refreshes the run's ``heartbeat_at`` every ``interval_s`` seconds on its own connection, from a daemon
    thread, for as long as the ``with`` block runs.

    Chunks refresh the heartbeat too, but a single long chunk (a slow SQL condition over many milestones)
    would otherwise look dead. On SQLite a chunk holds the database's one write lock, so the refresh waits
    for the chunk to commit: there the heartbeat moves between chunks (see the README on the limit).
    A failed refresh is logged and tried again at the next tick; it never stops the run.
    """

    def __init__(
        self,
        engine: sa.Engine,
        process_instance: int,
        interval_s: float,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.engine = engine
        self.process_instance = process_instance
        self.interval_s = interval_s
        self.now = now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{process_instance}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self.interval_s, 5.0))

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        _run.update()
                        .where(
                            _run.c.process_instance == self.process_instance,
                            _run.c.outcome == Outcome.PROCESSING.value,
                        )
                        .values(heartbeat_at=self.now())
                    )
            except Exception:  # a missed beat is not a reason to stop a run
                log.warning("heartbeat of run %s failed; trying again", self.process_instance, exc_info=True)
