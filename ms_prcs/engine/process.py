"""One CA_MS_PRCS run: :func:`process` takes a run control and returns what it did.

Unlike the services, this function owns its transactions, because its job is to commit in chunks: a run
over a million milestones must not hold one transaction for all of them, and a crash must lose at most the
chunk in flight. The run's row is committed first, each chunk is one transaction (candidates, verdicts,
completions, chain passes, StatusChange rows, feed entries, messages and the run's counts together), and
the run's outcome is committed last. A rerun with the same as-of date finds nothing Ready that is met, so
it changes no row; a run after a crash simply finds the rest still Ready.

A dry run takes the same path in a single transaction and rolls it back: what it reports is exactly what a
real run with that as-of date would do, and nothing is written (not even the run's row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa

from billing_plans.feed import publish_completions, publish_date_events
from billing_plans.holds import release_one_cycle
from contracts.audit import audit_clock
from contracts.errors import JobAlreadyRan
from contracts.models import Milestone
from contracts.schema import table_of
from contracts.status import MilestoneStatus
from ms_prcs.approvals import deadlines
from ms_prcs.engine import complete, evaluate, findings, runlock, runlog, tables
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import Outcome, RunControl, RunMessage, RunResult, Severity
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import Scope, lock_chunk, resolve
from ms_prcs.engine.sqlconds import ChunkSql, SqlStatements
from ms_prcs.settings import Settings

ProgressCallback = Callable[[int, int | None], None]
"""Called after every chunk with (milestones processed so far, total Ready in scope at the start)."""

DEFAULT_MAX_PASSES = 1000
"""Chain passes per chunk before the guard stops: far beyond any real chain, short of running forever."""


class ChunkHooks(Protocol):
    """What a worker of a run split over ranges (:mod:`ms_prcs.engine.ranges`) does inside every chunk's
    transaction: ``begin`` checks that its claim on the range still holds (raising ends the chunk, rolled
    back), ``end`` records the range's progress with the chunk's writes."""

    def begin(self, ctx: RunContext) -> None: ...

    def end(self, ctx: RunContext, hi: int) -> None: ...


def utc_now() -> dt.datetime:
    """Naive UTC to the second: the audit trail's one clock (:func:`contracts.audit.audit_clock`)."""
    return audit_clock()


def process(
    engine: sa.Engine,
    control: RunControl,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
    *,
    now: Callable[[], dt.datetime] = utc_now,
    max_passes: int = DEFAULT_MAX_PASSES,
    lock: runlock.LockPolicy | None = None,
    should_stop: Callable[[], bool] | None = None,
    workers: int = 1,
    sql: SqlStatements | None = None,
) -> RunResult:
    """Run the milestone processor once over ``control``'s scope as of ``control.as_of``, committing every
    ``settings.chunk_size`` milestones (a dry run commits nothing). Raises :class:`~contracts.errors.NotFound`
    for a business unit, contract or milestone in the run control that does not exist; SQL conditions that
    fail are error messages of the run, not exceptions.

    A real run first takes the run lock for its scope (:mod:`ms_prcs.engine.runlock`; ``lock`` says how
    long to wait, default: refuse at once with :class:`~contracts.errors.RunLocked`) and releases it at the
    end. A run of a job (``control.job_name``) that already ran for its as-of date raises
    :class:`~contracts.errors.JobAlreadyRan` once it holds the lock, unless ``control.force``. ``should_stop`` is asked between chunks: when it says so, the run ends ``Stopped`` after the chunk
    it just committed. ``workers`` > 1 splits the scope over processes on PostgreSQL
    (:mod:`ms_prcs.engine.workers`); other databases run with one. ``sql`` is for tests: SQL statements
    of their own making (:meth:`SqlStatements.trust` lets one past the parser, to test the other fences);
    the run closes it."""
    if settings.chunk_size < 1:
        raise ValueError(f"chunk_size must be 1 or more, got {settings.chunk_size}")
    started = now()
    statements = sql if sql is not None else SqlStatements.for_run(engine, settings)
    with statements as sql, engine.connect() as conn:
        # Steps decide what to do next by how many rows an INSERT .. SELECT wrote; SQLAlchemy keeps that
        # count for INSERTs only when asked.
        conn.execution_options(preserve_rowcount=True)
        tables.run_session(conn)
        if control.dry_run:
            with conn.begin() as txn:
                scope = resolve(conn, control)
                tables.create(conn)
                ctx = RunContext(conn, control, scope, None, Tally(), started)
                _run_chunks(ctx, settings, sql, on_progress, now, max_passes)
                _finish(ctx)
                txn.rollback()
            return _result(ctx, started, now())
        with conn.begin():
            scope = resolve(conn, control)
            units = runlock.units_to_lock(conn, scope.lock_units())
        policy = lock or runlock.LockPolicy(settings.heartbeat_limit_s)
        process_instance = runlock.acquire(
            conn,
            units,
            lambda c: runlog.start(c, control, now()),
            policy,
            now,
            when_locked=_once_a_night(control),
        )
        outcome: Outcome | None = None
        try:
            with conn.begin():
                tables.create(conn)
            ctx = RunContext(conn, control, scope, process_instance, Tally(), started)
            with runlock.Heartbeat(engine, process_instance, policy.heartbeat_limit_s / 4, now):
                try:
                    if workers > 1 and scope.milestone_pk is None:
                        from ms_prcs.engine import workers as parallel  # spawns processes: only when asked

                        finished = parallel.run(
                            ctx, engine, settings, sql, workers, should_stop, max_passes
                        ) and _final_pass(ctx, now, max_passes, should_stop)
                    else:
                        finished = _run_chunks(ctx, settings, sql, on_progress, now, max_passes, should_stop)
                    with conn.begin():
                        ctx.now = now()
                        if finished:
                            _finish(ctx)
                        else:
                            outcome = Outcome.STOPPED
                            _note_stop(ctx)
                        runlog.finish(
                            conn, process_instance, ctx.tally, outcome or ctx.tally.outcome(), ctx.now
                        )
                except BaseException as exc:
                    _record_failure(conn, ctx, exc, now())
                    raise
                finally:
                    _drop_tables(conn)
        finally:
            runlock.release(conn, process_instance)
        return _result(ctx, started, ctx.now, outcome)


def _once_a_night(control: RunControl) -> Callable[[sa.Connection], None] | None:
    """A job's night is done once: checked under the run lock, in the transaction that takes it, so it sees
    every run of the job that held the lock before, and of two runs started together only one runs."""
    job_name = control.job_name
    if job_name is None or control.force:
        return None

    def check(conn: sa.Connection) -> None:
        previous = runlog.job_done(conn, job_name, control.as_of)
        if previous is not None:
            raise JobAlreadyRan(job_name, control.as_of.isoformat(), previous)

    return check


def _note_stop(ctx: RunContext) -> None:
    text = f"stopped by signal after chunk {ctx.tally.chunks}; the next run continues"
    batch = ctx.tally.note([RunMessage(Severity.WARNING, "", text)])
    runlog.write_messages(ctx.conn, ctx.process_instance or 0, batch)


def _final_pass(
    ctx: RunContext,
    now: Callable[[], dt.datetime],
    max_passes: int,
    should_stop: Callable[[], bool] | None,
) -> bool:
    """After the workers: what only crossing shares can complete (a milestone waiting on one that another
    worker completed). Within a run the as-of date and everything a condition reads stay fixed, so only a
    Contracts milestone condition, or a later step, waiting on a milestone this run completed can still
    become met: the chain pass seeded with everything the run completed finds them, without a second look
    at every Ready milestone (which made two workers slower than one)."""
    if should_stop is not None and should_stop():
        return False
    conn = ctx.conn
    assert ctx.process_instance is not None
    with conn.begin():
        ctx.now = now()
        tables.clear(conn)
        conn.execute(
            tables.DONE.insert().from_select(
                ["milestone_pk"],
                sa.select(Milestone.id).where(
                    Milestone.completed_by_run == ctx.marker,
                    ctx.scope.predicate(table_of(Milestone)),
                ),
            )
        )
        passes = 0
        while complete.chain_pass(ctx):
            passes += 1
            if passes >= max_passes:
                batch = ctx.tally.note([_passes_stopped(max_passes)])
                runlog.write_messages(conn, ctx.process_instance, batch)
                break
        ctx.tally.passes += passes
        if passes:
            ctx.tally.feed_entries += _publish_completions(ctx)
        runlog.save_counts(conn, ctx.process_instance, ctx.tally, ctx.now)
    return True


def _passes_stopped(max_passes: int) -> RunMessage:
    return RunMessage(
        Severity.ERROR,
        "",
        f"chain passes stopped after {max_passes}: milestones completed by the last pass may free"
        " more; the next run continues",
    )


def _run_chunks(
    ctx: RunContext,
    settings: Settings,
    sql: SqlStatements,
    on_progress: ProgressCallback | None,
    now: Callable[[], dt.datetime],
    max_passes: int,
    should_stop: Callable[[], bool] | None = None,
    *,
    record: bool = True,
    after: int = 0,
    hooks: ChunkHooks | None = None,
) -> bool:
    """The chunk loop over milestone ids above ``after``; returns False when ``should_stop`` ended it early
    (every chunk so far committed). ``record=False`` (a worker of a run) writes its messages but not the
    counts on the run's row: the run merges the workers' counts."""
    conn = ctx.conn
    total = None
    if on_progress:
        if ctx.dry_run:
            total = _count_ready(conn, ctx.scope)
        else:
            with conn.begin():
                total = _count_ready(conn, ctx.scope)
    while True:
        # SQL conditions first, on their own read-only connection: never inside the write transaction
        found = sql.prepare(ctx, after, settings.chunk_size)
        if ctx.dry_run:
            after_next = _chunk(ctx, after, settings.chunk_size, sql, found, now, max_passes, record)
        else:
            with conn.begin():
                after_next = _chunk(
                    ctx, after, settings.chunk_size, sql, found, now, max_passes, record, hooks
                )
        if after_next is None:
            return True
        after = after_next
        if on_progress:
            on_progress(ctx.tally.processed, total)
        if should_stop is not None and not ctx.dry_run and should_stop():
            return False


def _chunk(
    ctx: RunContext,
    after: int,
    size: int,
    sql: SqlStatements,
    found: ChunkSql,
    now: Callable[[], dt.datetime],
    max_passes: int,
    record: bool = True,
    hooks: ChunkHooks | None = None,
) -> int | None:
    """One chunk, in the caller's transaction, with the SQL verdicts ``found`` before it; returns the
    highest milestone id it took, or None when there was nothing left."""
    conn = ctx.conn
    ctx.now = now()
    lock_chunk(conn, ctx.scope, ctx.process_instance, ctx.now)
    if hooks is not None:
        hooks.begin(ctx)
    tables.clear(conn)
    count, lo, hi = evaluate.pick_candidates(ctx, after, size)
    if not count:
        return None
    tally = ctx.tally
    tally.chunks += 1
    tally.processed += count
    evaluate.evaluate_conditions(ctx, lo, hi)
    sql.apply(ctx, found)
    messages = list(found.messages)
    blocked = evaluate.keep_blocked(ctx)
    complete.complete_conditions(ctx)
    done = complete.complete_milestones(ctx, tables.CANDIDATES, (lo, hi))
    passes = 1
    while done:
        if passes >= max_passes:
            messages.append(_passes_stopped(max_passes))
            break
        done = complete.chain_pass(ctx)
        passes += 1 if done else 0  # a pass counts when it completed something
    tally.passes += passes
    if blocked:
        messages += findings.blocked_warnings(ctx)
    if ctx.dry_run:
        tally.completed_keys += complete.completed_keys(ctx)
    elif ctx.process_instance is not None:
        tally.feed_entries += _publish_completions(ctx)
    batch = tally.note(messages)
    if ctx.process_instance is not None:
        runlog.write_messages(conn, ctx.process_instance, batch)
        if record:
            runlog.save_counts(conn, ctx.process_instance, tally, ctx.now)
    if hooks is not None:
        hooks.end(ctx, hi)
    return hi


def _publish_completions(ctx: RunContext) -> int:
    """Feed entries for the chunk's completions, in the chunk's transaction (last: it holds the feed lock)."""
    assert ctx.process_instance is not None
    return publish_completions(
        ctx.conn,
        sa.select(tables.CHUNK_DONE.c.milestone_pk),
        process_instance=ctx.process_instance,
        as_of=ctx.as_of,
        at=ctx.now,
    )


def _finish(ctx: RunContext) -> None:
    """The run's last transaction: approvals the run made due and Past Due warnings, cycle warnings, Date
    plan events, the summary message."""
    messages: list[RunMessage] = []
    if ctx.control.findings:
        deadlines.approval_step(ctx)
        messages = findings.cycle_warnings(ctx)
    if ctx.control.milestone is not None and not ctx.tally.processed:
        status = ctx.conn.scalar(sa.select(Milestone.status).where(Milestone.id == ctx.scope.milestone_pk))
        if status != MilestoneStatus.READY:
            messages.append(
                RunMessage(
                    Severity.INFO,
                    str(ctx.control.milestone),
                    f"not processed: the milestone is {status}; only Ready milestones are processed",
                )
            )
    if ctx.process_instance is not None:
        ctx.tally.feed_entries += release_one_cycle(
            ctx.conn,
            business_units=ctx.scope.lock_units(),
            process_instance=ctx.process_instance,
            as_of=ctx.as_of,
            at=ctx.now,
            actor=ctx.actor,
        )
        ctx.tally.feed_entries += publish_date_events(
            ctx.conn,
            business_units=ctx.scope.lock_units() or None,
            as_of=ctx.as_of,
            process_instance=ctx.process_instance,
            at=ctx.now,
        )
    tally = ctx.tally
    by_type = ", ".join(f"{t} {n}" for t, n in tally.conditions.items())
    messages.append(
        RunMessage(
            Severity.INFO,
            "",
            f"{tally.milestones_completed} of {tally.processed} Ready milestones completed as of {ctx.as_of}"
            f" ({ctx.control.describe()}); conditions completed: {by_type}",
        )
    )
    batch = tally.note(messages)
    if ctx.process_instance is not None:
        runlog.write_messages(ctx.conn, ctx.process_instance, batch)


def _count_ready(conn: sa.Connection, scope: Scope) -> int:
    m = table_of(Milestone)
    return int(
        conn.scalar(sa.select(sa.func.count()).where(m.c.status == MilestoneStatus.READY, scope.predicate(m)))
        or 0
    )


def _record_failure(conn: sa.Connection, ctx: RunContext, exc: BaseException, at: dt.datetime) -> None:
    """Best effort: mark the run Failed with the reason, so the process monitor does not show it running."""
    if ctx.process_instance is None:
        return
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            text = f"run stopped: {type(exc).__name__}: {exc}".splitlines()[0][:2000]
            batch = ctx.tally.note([RunMessage(Severity.ERROR, "", text)])
            runlog.write_messages(conn, ctx.process_instance, batch)
            runlog.finish(conn, ctx.process_instance, ctx.tally, Outcome.FAILED, at)
    except Exception:  # the original error is the one to raise
        pass


def _drop_tables(conn: sa.Connection) -> None:
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            tables.drop(conn)
    except Exception:  # the connection is closed next anyway
        pass


def _result(
    ctx: RunContext, started: dt.datetime, ended: dt.datetime, outcome: Outcome | None = None
) -> RunResult:
    tally = ctx.tally
    return RunResult(
        process_instance=ctx.process_instance,
        as_of=ctx.as_of,
        dry_run=ctx.dry_run,
        outcome=outcome or tally.outcome(),
        milestones_processed=tally.processed,
        milestones_completed=tally.milestones_completed,
        conditions_completed=dict(tally.conditions),
        message_counts=dict(tally.message_counts),
        messages=tuple(tally.messages),
        chunks=tally.chunks,
        passes=tally.passes,
        feed_entries=tally.feed_entries,
        started_at=started,
        ended_at=ended,
        completed=tuple(sorted(tally.completed_keys)),
    )
