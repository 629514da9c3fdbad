"""A run's scope as contiguous milestone id ranges in the database, claimed one at a time by its workers.

Why milestone ids (not contract ids or business units): the chunk loop pages Ready milestones by their
primary key and reads their conditions as one ``milestone_pk`` index range, so a range of milestone ids is
exactly a run of consecutive chunks of the one-worker run: each worker's chunk reads the rows it processes
and no more, whatever business unit they belong to. Each range holds ``chunk_size`` Ready milestones (one
chunk), so the run does as many chunks as one worker would. Contracts' milestones are consecutive ids, so a
chain inside a contract stays in one range except at a range's edge; what crosses ranges is completed by
the run's final pass (:func:`ms_prcs.engine.process._final_pass`).

:func:`plan` writes the ranges in one ``INSERT .. SELECT``. :func:`claim` takes the next ``open`` range,
or a ``claimed`` one whose worker is dead, decided as the run lock decides a dead run
(:meth:`ms_prcs.engine.runlock.Holder.death`: its process gone on this host, or its heartbeat older than
the limit). On PostgreSQL the candidate rows are read ``FOR UPDATE SKIP LOCKED``, so two workers never
wait for or take the same row, and a range whose chunk is in flight (the worker holds its row lock, see
:class:`RangeHooks`) is never taken; on SQLite, which has one writer, the claim is a compare-and-set
``UPDATE`` on the state and claim number. The claim number (``claims``) makes every claim distinct: a worker
whose range was taken from it finds out at its next chunk and stops there, so no chunk is done twice.

The range row is also the range's progress: every chunk's transaction records the last milestone id the
chunk took and the range's counts so far, so a range taken again goes on where its dead worker's last
committed chunk ended, and the run adds up every range's counts exactly once (:func:`merged`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from contracts.errors import RuleViolation
from contracts.models import Milestone, ProcessMessage, ProcessRun
from contracts.run_models import RunRange
from contracts.schema import table_of
from contracts.status import MilestoneStatus
from ms_prcs.engine import runlog
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import MESSAGES_KEPT, Outcome, RunMessage, Severity
from ms_prcs.engine.runlock import Holder, this_host
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import lock_chunk_shared

_r = table_of(RunRange)
_m = table_of(Milestone)
_run = table_of(ProcessRun)
_message = table_of(ProcessMessage)

OPEN, CLAIMED, DONE = "open", "claimed", "done"


class ClaimLost(Exception):
    """The range was taken by another worker (this one looked dead) or the run is no longer Processing: the
    chunk in hand rolls back and the worker leaves the range."""


@dataclass(frozen=True)
class Claim:
    """One worker's hold on one range, as of its claim number ``claims``."""

    process_instance: int
    range_no: int
    lo: int
    hi: int
    after: int
    claims: int
    tally: Tally
    """The range's counts from its committed chunks (empty unless taken over from a dead worker)."""


def plan(conn: sa.Connection, ctx: RunContext, size: int) -> int:
    """Cut the Ready milestones of ``ctx``'s scope into ranges of ``size`` (the last one smaller) and write
    them, ``open``, in one statement; returns how many. Range ``k`` starts after range ``k - 1`` ends, so
    the ranges tile the ids from the first Ready milestone to the last."""
    assert ctx.process_instance is not None
    ready = (
        sa.select(
            _m.c.id,
            ((sa.func.row_number().over(order_by=_m.c.id) - 1) // size).label("k"),
        )
        .where(_m.c.status == MilestoneStatus.READY, ctx.scope.predicate(_m))
        .subquery("ready")
    )
    buckets = (
        sa.select(
            ready.c.k,
            sa.func.min(ready.c.id).label("first"),
            sa.func.max(ready.c.id).label("last"),
            sa.func.count().label("n"),
        )
        .group_by(ready.c.k)
        .subquery("buckets")
    )
    lo = sa.func.coalesce(sa.func.lag(buckets.c.last).over(order_by=buckets.c.k) + 1, buckets.c.first)
    tiled = sa.select(buckets.c.k, lo.label("lo"), buckets.c.last, buckets.c.n).subquery("tiled")
    rows = sa.select(
        sa.literal(ctx.process_instance, sa.Integer),
        tiled.c.k,
        tiled.c.lo,
        tiled.c.last,
        tiled.c.n,
        sa.literal(OPEN, sa.String),
        sa.literal("", sa.String),
        sa.literal(0, sa.Integer),
        tiled.c.lo - 1,
        sa.literal(0, sa.Integer),
        sa.literal(Tally().counts_json(), sa.Text),
    )
    columns = [
        "process_instance",
        "range_no",
        "lo_pk",
        "hi_pk",
        "ready",
        "state",
        "host",
        "claims",
        "after_pk",
        "milestones_completed",
        "counts",
    ]
    return int(conn.execute(_r.insert().from_select(columns, rows)).rowcount)


def claim(
    conn: sa.Connection, process_instance: int, heartbeat_limit_s: float, now: dt.datetime
) -> Claim | None:
    """Claim the next range of the run, in a transaction of its own: the first ``open`` one, else the first
    ``claimed`` one whose worker is dead (the takeover is logged on the run as a warning). None when every
    range left is done or held by a live worker."""
    while True:
        with conn.begin() as txn:
            if conn.dialect.name == "sqlite":  # write first: the database's one write lock before any read
                conn.execute(
                    _run.update().where(_run.c.process_instance == process_instance).values(heartbeat_at=now)
                )
            row, reason = _next(conn, process_instance, heartbeat_limit_s, now)
            if row is None:
                return None
            tally = _tally(row.counts, row.milestones_completed)
            batch = [] if reason is None else tally.note([_taken_again(row, reason, now)])
            taken = conn.execute(
                _r.update()
                .where(
                    _key(process_instance, row.range_no), _r.c.state == row.state, _r.c.claims == row.claims
                )
                .values(
                    state=CLAIMED,
                    host=this_host(),
                    pid=os.getpid(),
                    claims=row.claims + 1,
                    claimed_at=now,
                    heartbeat_at=now,
                    counts=tally.counts_json(),
                )
            ).rowcount
            if taken != 1:  # SQLite: another process claimed it between our read and our update
                txn.rollback()
                continue
            runlog.write_messages(conn, process_instance, batch)
            return Claim(
                process_instance, row.range_no, row.lo_pk, row.hi_pk, row.after_pk, row.claims + 1, tally
            )


def _next(
    conn: sa.Connection, process_instance: int, limit_s: float, now: dt.datetime
) -> tuple[Any, str | None]:
    """The range to claim and, for one taken from a dead worker, why it is dead."""
    first_open = conn.execute(
        sa.select(_r)
        .where(_r.c.process_instance == process_instance, _r.c.state == OPEN)
        .order_by(_r.c.range_no)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if first_open is not None:
        return first_open, None
    held = conn.execute(
        sa.select(_r)
        .where(_r.c.process_instance == process_instance, _r.c.state == CLAIMED)
        .order_by(_r.c.range_no)
        .with_for_update(skip_locked=True)
    ).all()
    for row in held:
        reason = _holder(row).death(now, limit_s)
        if reason is not None:
            return row, reason
    return None, None


def _holder(row: Any) -> Holder:
    """The range's worker seen as a run lock holder, so a dead worker is what a dead run is."""
    return Holder(
        "",
        row.process_instance,
        row.host,
        row.pid,
        row.claimed_at,
        row.heartbeat_at,
        Outcome.PROCESSING.value,
    )


def _taken_again(row: Any, reason: str, now: dt.datetime) -> RunMessage:
    """The warning a range taken from a dead worker leaves on the run."""
    return RunMessage(
        Severity.WARNING,
        "",
        f"range {row.range_no} (milestones {row.lo_pk}..{row.hi_pk}) taken again at {now} by host"
        f" {this_host()}, pid {os.getpid()}: its worker (host {row.host}, pid {row.pid}) is dead: {reason};"
        f" it goes on after milestone {row.after_pk}",
    )


def _key(process_instance: int, range_no: int) -> sa.ColumnElement[bool]:
    return sa.and_(_r.c.process_instance == process_instance, _r.c.range_no == range_no)


class RangeHooks:
    """The chunk loop's hooks (:class:`ms_prcs.engine.process.ChunkHooks`) for one claimed range.

    ``begin``: on PostgreSQL the shared chunk locks (:func:`~ms_prcs.engine.scope.lock_chunk_shared`), then
    an ``UPDATE`` of the range's heartbeat that succeeds only while the claim is ours and the run is
    Processing; it also holds the range's row lock until the chunk commits, so no one takes the range from
    a worker in the middle of a chunk. ``end``: the range's progress and counts, in the chunk's transaction.
    """

    def __init__(self, claim: Claim, units: tuple[str, ...]) -> None:
        self.claim = claim
        self.units = units

    def begin(self, ctx: RunContext) -> None:
        lock_chunk_shared(ctx.conn, self.units)
        c = self.claim
        processing = sa.exists(
            sa.select(sa.literal(1)).where(
                _run.c.process_instance == c.process_instance, _run.c.outcome == Outcome.PROCESSING.value
            )
        )
        held = ctx.conn.execute(
            _r.update()
            .where(
                _key(c.process_instance, c.range_no),
                _r.c.state == CLAIMED,
                _r.c.claims == c.claims,
                processing,
            )
            .values(heartbeat_at=ctx.now)
        ).rowcount
        if held != 1:
            raise ClaimLost(f"range {c.range_no} of run {c.process_instance}")

    def end(self, ctx: RunContext, hi: int) -> None:
        c = self.claim
        ctx.conn.execute(
            _r.update()
            .where(_key(c.process_instance, c.range_no), _r.c.claims == c.claims)
            .values(
                after_pk=hi,
                counts=ctx.tally.counts_json(),
                milestones_completed=ctx.tally.milestones_completed,
                heartbeat_at=ctx.now,
            )
        )


def finish(conn: sa.Connection, claim: Claim, now: dt.datetime) -> None:
    """The range is done (its chunks are committed): in a transaction of its own."""
    with conn.begin():
        conn.execute(
            _r.update()
            .where(_key(claim.process_instance, claim.range_no), _r.c.claims == claim.claims)
            .values(state=DONE, heartbeat_at=now)
        )


def give_back(conn: sa.Connection, claim: Claim) -> None:
    """Best effort, when a worker stops with an error: the range is open again at once (its committed
    chunks stay recorded), instead of waiting for the worker to look dead."""
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            conn.execute(
                _r.update()
                .where(_key(claim.process_instance, claim.range_no), _r.c.claims == claim.claims)
                .values(state=OPEN)
            )
    except Exception:  # best effort: the worker's own error is the one to raise
        pass


def left(conn: sa.Connection, process_instance: int) -> int:
    """How many ranges of the run are not done."""
    return int(
        conn.scalar(
            sa.select(sa.func.count()).where(_r.c.process_instance == process_instance, _r.c.state != DONE)
        )
        or 0
    )


def merged(conn: sa.Connection, process_instance: int) -> Tally:
    """The run's counts: every range's, added up, with the first :data:`MESSAGES_KEPT` messages of its log."""
    tally = Tally()
    rows = conn.execute(
        sa.select(_r.c.counts, _r.c.milestones_completed)
        .where(_r.c.process_instance == process_instance)
        .order_by(_r.c.range_no)
    )
    for counts, completed in rows:
        add(tally, _tally(counts, completed))
    tally.messages = [
        RunMessage(Severity(severity), key, text)
        for severity, key, text in conn.execute(
            sa.select(_message.c.severity, _message.c.object_key, _message.c.text)
            .where(_message.c.process_instance == process_instance)
            .order_by(_message.c.id)
            .limit(MESSAGES_KEPT)
        )
    ]
    return tally


def add(tally: Tally, other: Tally) -> None:
    """Add ``other``'s counts (not its messages) to ``tally``."""
    tally.processed += other.processed
    tally.milestones_completed += other.milestones_completed
    for kind, n in other.conditions.items():
        tally.conditions[kind] = tally.conditions.get(kind, 0) + n
    for severity, n in other.message_counts.items():
        tally.message_counts[severity] = tally.message_counts.get(severity, 0) + n
    tally.chunks += other.chunks
    tally.passes += other.passes
    tally.feed_entries += other.feed_entries


def _tally(counts: str, milestones_completed: int) -> Tally:
    """A range's counts read back (the inverse of :meth:`Tally.counts_json`)."""
    data = json.loads(counts or "{}")
    tally = Tally(
        processed=int(data.get("milestones_processed", 0)),
        milestones_completed=int(milestones_completed),
        chunks=int(data.get("chunks", 0)),
        passes=int(data.get("passes", 0)),
        feed_entries=int(data.get("feed_entries", 0)),
    )
    for kind, n in data.get("conditions_completed", {}).items():
        tally.conditions[kind] = int(n)
    for severity, n in data.get("messages", {}).items():
        tally.message_counts[severity] = int(n)
    return tally


def joinable(conn: sa.Connection, process_instance: int, heartbeat_limit_s: float, now: dt.datetime) -> Any:
    """The run's row, if another worker may join it; refuses (exit 1) an unknown run, a run that ended or
    looks dead, a run on SQLite and a run that does not share its scope in ranges."""
    row = runlog.run_row(conn, process_instance)
    obj = f"process instance {process_instance}"
    if conn.dialect.name != "postgresql":
        raise RuleViolation(obj, "SQLite has one writer: only a run on PostgreSQL can be joined")
    if row.outcome != Outcome.PROCESSING.value:
        raise RuleViolation(obj, f"it has ended ({row.outcome}); only a run that is Processing can be joined")
    holder = Holder(
        "", row.process_instance, row.host, row.pid, row.started_at, row.heartbeat_at, row.outcome
    )
    death = holder.death(now, heartbeat_limit_s)
    if death is not None:
        raise RuleViolation(obj, f"the run looks dead ({death}); the next run takes over its lock")
    planned = conn.scalar(sa.select(sa.func.count()).where(_r.c.process_instance == process_instance))
    if not planned:
        raise RuleViolation(
            obj,
            "it does not share its scope in ranges; only a run started with --workers 2 or more can be joined",
        )
    return row
