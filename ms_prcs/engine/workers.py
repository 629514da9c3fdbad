"""``--workers N`` and ``--join RUN``: one run's scope worked by several processes, on one host or several.

The run (the parent) has already recorded its ``process_run`` row and taken the run lock for the whole
scope. It writes its ranges (:mod:`ms_prcs.engine.ranges`: contiguous milestone id ranges of one chunk
each), starts N - 1 worker processes on PostgreSQL ("spawn": no inherited connections) and works ranges
itself; ``ms-prcs run --join RUN`` on any host with the same database adds workers. Every worker claims the
next range as it finishes one, runs the engine's chunk loop over it under the run's process instance (its
StatusChange rows, feed entries and messages belong to the one run), and leaves when no range is left to
claim. Workers skip the exclusive chunk-level advisory locks (the run lock already keeps other runs out;
with them, the workers would take turns) and take them shared instead
(:func:`~ms_prcs.engine.scope.lock_chunk_shared`).

The parent waits until every range is done, taking again the ranges of workers that died, then adds up the
ranges' counts and runs the chain pass seeded with every milestone the run completed
(:func:`ms_prcs.engine.process._final_pass`): a milestone waiting on one completed in another range is
completed there, so the end state is the one a single process reaches (the engine is a fixpoint:
completing more never un-meets anything).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import Any

import sqlalchemy as sa

from contracts.keys import ContractKey, MilestoneKey
from ms_prcs.engine import ranges, runlock, tables
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import RunControl
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import Scope, resolve
from ms_prcs.engine.sqlconds import SqlStatements
from ms_prcs.settings import Settings

log = logging.getLogger("ms_prcs.engine.workers")

POLL_S = 0.2
"""How often the parent looks again while ranges are still held by live workers."""

Stop = Callable[[], bool]


@dataclass
class Worked:
    """What one worker did (its own chunks only): what ``--join`` reports."""

    ranges: int = 0
    tally: Tally = field(default_factory=Tally)


def run(
    ctx: RunContext,
    engine: sa.Engine,
    settings: Settings,
    sql: SqlStatements,
    workers: int,
    should_stop: Stop | None,
    max_passes: int,
) -> bool:
    """Plan the ranges, work them with ``workers`` processes (this one included; only this one on SQLite,
    which has one writer) and any that join, and set ``ctx.tally`` to their counts added up. Returns False
    when ``should_stop`` said so (the final pass is then left out); every committed chunk is counted."""
    assert ctx.process_instance is not None
    conn = ctx.conn
    with conn.begin():
        planned = ranges.plan(conn, ctx, settings.chunk_size)
        units = runlock.units_to_lock(conn, ctx.scope.lock_units())
    children: list[Any] = []
    spawn = multiprocessing.get_context("spawn")
    stop_children = spawn.Event()
    if conn.dialect.name == "postgresql":
        url = engine.url.render_as_string(hide_password=False)
        for _ in range(min(workers, planned) - 1):
            child = spawn.Process(
                target=_child,
                args=(url, ctx.control, ctx.scope, ctx.process_instance, settings, stop_children),
                daemon=True,
            )
            child.start()
            children.append(child)
    stopped = False
    try:
        while True:
            work(
                conn,
                ctx.control,
                ctx.scope,
                ctx.process_instance,
                settings,
                sql,
                units,
                should_stop,
                max_passes,
            )
            if should_stop is not None and should_stop():
                stopped = True
                break
            with conn.begin():
                if not ranges.left(conn, ctx.process_instance):
                    break
            # ranges held by live workers: wait for them, or for them to look dead (is_alive() reaps a dead
            # child, whose pid would otherwise still exist, as a zombie, and look alive)
            sum(child.is_alive() for child in children)
            time.sleep(POLL_S)
    finally:
        stop_children.set()  # children still at work stop after their chunk in flight
        for child in children:
            child.join()
            if child.exitcode:
                log.warning(
                    "worker %s of run %s exited with %s", child.pid, ctx.process_instance, child.exitcode
                )
    with conn.begin():
        ctx.tally = ranges.merged(conn, ctx.process_instance)
    return not stopped


def work(
    conn: sa.Connection,
    control: RunControl,
    scope: Scope,
    process_instance: int,
    settings: Settings,
    sql: SqlStatements,
    units: tuple[str, ...],
    should_stop: Stop | None,
    max_passes: int,
) -> Worked:
    """Claim and work ranges of the run on ``conn`` (its scratch tables created) until none is left to claim
    or ``should_stop`` says so between two chunks. A range taken from this worker (it looked dead) is left
    at its next chunk; on any error the range in hand is given back and the error raised."""
    engine_process = import_module(
        "ms_prcs.engine.process"
    )  # the module (``process`` the name is a function)
    now: Callable[[], dt.datetime] = engine_process.utc_now
    worked = Worked()
    while not (should_stop is not None and should_stop()):
        claim = ranges.claim(conn, process_instance, settings.heartbeat_limit_s, now())
        if claim is None:
            break
        share = replace(scope, milestone_range=(claim.lo, claim.hi), chunk_locks=False)
        before = Tally()
        ranges.add(before, claim.tally)
        ctx = RunContext(conn, control, share, process_instance, claim.tally, now())
        try:
            finished = engine_process._run_chunks(
                ctx,
                settings,
                sql,
                None,
                now,
                max_passes,
                should_stop,
                record=False,
                after=claim.after,
                hooks=ranges.RangeHooks(claim, units),
            )
        except ranges.ClaimLost:
            log.warning("run %s: range %s was taken by another worker", process_instance, claim.range_no)
            continue
        except BaseException:
            ranges.give_back(conn, claim)
            raise
        if finished:
            ranges.finish(conn, claim, now())
            worked.ranges += 1
        else:  # stopped between two chunks: the range goes on with whoever claims it next
            ranges.give_back(conn, claim)
        _add_delta(worked.tally, claim.tally, before)
    return worked


def _add_delta(total: Tally, after: Tally, before: Tally) -> None:
    total.processed += after.processed - before.processed
    total.milestones_completed += after.milestones_completed - before.milestones_completed
    for kind, n in after.conditions.items():
        total.conditions[kind] = total.conditions.get(kind, 0) + n - before.conditions.get(kind, 0)
    total.chunks += after.chunks - before.chunks
    total.feed_entries += after.feed_entries - before.feed_entries


def _child(
    url: str,
    control: RunControl,
    scope: Scope,
    process_instance: int,
    settings: Settings,
    stop: Any,
) -> None:
    """A worker process started by the run: its own engine and connection, ranges until none is left."""
    from ms_prcs.db import make_engine

    engine = make_engine(url)
    try:
        _on_connection(engine, settings, control, scope, process_instance, stop.is_set)
    finally:
        engine.dispose()


def _on_connection(
    engine: sa.Engine,
    settings: Settings,
    control: RunControl,
    scope: Scope,
    process_instance: int,
    should_stop: Stop | None,
) -> Worked:
    from ms_prcs.engine.process import DEFAULT_MAX_PASSES

    with SqlStatements.for_run(engine, settings) as sql, engine.connect() as conn:
        conn.execution_options(preserve_rowcount=True)
        tables.run_session(conn)
        with conn.begin():
            tables.create(conn)
            units = runlock.units_to_lock(conn, scope.lock_units())
        try:
            return work(
                conn, control, scope, process_instance, settings, sql, units, should_stop, DEFAULT_MAX_PASSES
            )
        finally:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                tables.drop(conn)


def join(
    engine: sa.Engine, settings: Settings, process_instance: int, should_stop: Stop | None = None
) -> Worked:
    """``ms-prcs run --join RUN``: work ranges of a running run from this process until none is left.

    Refuses (:func:`ranges.joinable`, exit 1) an unknown run, one that has ended or looks dead, one on
    SQLite and one that does not share its scope in ranges. The run's counts and outcome stay the run's:
    its parent adds this worker's ranges to them when it finishes."""
    from ms_prcs.engine.process import utc_now

    with engine.connect() as conn, conn.begin():
        row = ranges.joinable(conn, process_instance, settings.heartbeat_limit_s, utc_now())
        control = _control(row.run_control)
        scope = resolve(conn, control)
    return _on_connection(engine, settings, control, scope, process_instance, should_stop)


def _control(run_control: str) -> RunControl:
    """The run's control back from its ``process_run`` row (what scope and as-of date to work on)."""
    data = json.loads(run_control)
    return RunControl(
        as_of=dt.date.fromisoformat(data["as_of"]),
        business_units=tuple(data.get("business_units") or ()),
        contract=ContractKey.parse(data["contract"]) if data.get("contract") else None,
        milestone=MilestoneKey.parse(data["milestone"]) if data.get("milestone") else None,
        trigger=data.get("trigger") or "manual",
        job_name=data.get("job_name"),
    )
