"""``--workers N`` on PostgreSQL: one run's scope split over N processes, merged into one process instance.

The run (the parent) has already recorded its ``process_run`` row and taken the run lock for the whole
scope. It splits the Ready milestones in scope into at most N shares: whole business units, packed
greedily (largest first, onto the least loaded worker), except that a unit larger than a worker's fair
share is cut into contract id ranges of about that size. Each worker is a fresh process ("spawn": no
inherited connections) that runs the engine's chunk loop over its share under the parent's process
instance, so its StatusChange rows and feed entries belong to the one run. Workers skip the chunk-level
advisory locks (the run lock already keeps other runs out; with them, the workers would take turns) and
write their messages but not the counts on the run's row.

Then the parent runs the chain pass seeded with every milestone the run completed: a milestone waiting on
one that another worker completed is completed there, so the end state is the one a single process
reaches (the engine is a fixpoint: completing more never un-meets anything). The parent adds the workers'
counts and message counts to its own.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from importlib import import_module

import sqlalchemy as sa

from contracts.models import Contract, Milestone
from contracts.schema import table_of
from contracts.status import MilestoneStatus
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import MESSAGES_KEPT, RunControl, RunMessage
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import Scope
from ms_prcs.settings import Settings

_m = table_of(Milestone)
_k = table_of(Contract)


@dataclass(frozen=True)
class Share:
    """Part of the scope and how many Ready milestones it holds (the weight the packing balances)."""

    scope: Scope
    ready: int


@dataclass(frozen=True)
class WorkerCounts:
    processed: int
    milestones_completed: int
    conditions: dict[str, int]
    chunks: int
    passes: int
    feed_entries: int
    message_counts: dict[str, int]
    messages: list[RunMessage]


def partition(conn: sa.Connection, scope: Scope, workers: int) -> list[list[Scope]]:
    """The scope split into at most ``workers`` lists of scopes, balanced by Ready milestones.

    Two grouped queries at most per large unit: Ready milestones per business unit, and, for a unit above
    the fair share, per contract id (cut into consecutive ranges)."""
    ready = sa.and_(_m.c.status == MilestoneStatus.READY, scope.predicate(_m))
    per_unit = conn.execute(
        sa.select(_k.c.business_unit, sa.func.count())
        .select_from(_m.join(_k, _k.c.id == _m.c.contract_pk))
        .where(ready)
        .group_by(_k.c.business_unit)
    ).all()
    total = sum(int(n) for _, n in per_unit)
    if total == 0:
        return []
    fair = math.ceil(total / workers)
    shares: list[Share] = []
    for bu, n in per_unit:
        unit_scope = replace(scope, business_units=(bu,), chunk_locks=False)
        if n <= fair:
            shares.append(Share(unit_scope, int(n)))
            continue
        per_contract = conn.execute(
            sa.select(_m.c.contract_pk, sa.func.count())
            .select_from(_m.join(_k, _k.c.id == _m.c.contract_pk))
            .where(ready, _k.c.business_unit == bu)
            .group_by(_m.c.contract_pk)
            .order_by(_m.c.contract_pk)
        ).all()
        lo, acc = None, 0
        for contract_pk, count in per_contract:
            lo = contract_pk if lo is None else lo
            acc += int(count)
            if acc >= fair:
                shares.append(Share(replace(unit_scope, contract_range=(lo, contract_pk)), acc))
                lo, acc = None, 0
        if lo is not None:
            shares.append(Share(replace(unit_scope, contract_range=(lo, per_contract[-1][0])), acc))
    bins: list[list[Share]] = [[] for _ in range(workers)]
    for share in sorted(shares, key=lambda s: (-s.ready, s.scope.business_units, s.scope.contract_range)):
        min(bins, key=lambda b: sum(s.ready for s in b)).append(share)
    return [[s.scope for s in b] for b in bins if b]


def run(
    ctx: RunContext,
    engine: sa.Engine,
    settings: Settings,
    workers: int,
    should_stop: Callable[[], bool] | None,
) -> bool:
    """Run the workers over the partition of ``ctx``'s scope and add their counts to ``ctx.tally``;
    returns False when ``should_stop`` says so once they are done (the final pass is then left out)."""
    assert ctx.process_instance is not None
    with ctx.conn.begin():
        shares = partition(ctx.conn, ctx.scope, workers)
    url = engine.url.render_as_string(hide_password=False)
    if shares:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(shares), mp_context=spawn) as pool:
            futures = [
                pool.submit(work, url, ctx.control, share, ctx.process_instance, settings, ctx.now)
                for share in shares
            ]
            for future in futures:
                _add(ctx.tally, future.result())
    return not (should_stop is not None and should_stop())


def work(
    url: str,
    control: RunControl,
    scopes: list[Scope],
    process_instance: int,
    settings: Settings,
    started: dt.datetime,
) -> WorkerCounts:
    """One worker process: the chunk loop over each of its scopes, under the run's process instance."""
    from ms_prcs.db import make_engine
    from ms_prcs.engine import tables
    from ms_prcs.engine.sqlconds import SqlStatements

    # ``ms_prcs.engine.process`` the attribute is the function; the module is the one with the chunk loop
    engine_process = import_module("ms_prcs.engine.process")

    engine = make_engine(url)
    tally = Tally()
    try:
        with SqlStatements.for_run(engine, settings) as sql, engine.connect() as conn:
            conn.execution_options(preserve_rowcount=True)
            tables.in_memory(conn)
            with conn.begin():
                tables.create(conn)
            for scope in scopes:
                ctx = RunContext(conn, control, scope, process_instance, tally, started)
                engine_process._run_chunks(
                    ctx,
                    settings,
                    sql,
                    None,
                    engine_process.utc_now,
                    engine_process.DEFAULT_MAX_PASSES,
                    record=False,
                )
    finally:
        engine.dispose()
    return WorkerCounts(
        tally.processed,
        tally.milestones_completed,
        dict(tally.conditions),
        tally.chunks,
        tally.passes,
        tally.feed_entries,
        dict(tally.message_counts),
        list(tally.messages),
    )


def _add(tally: Tally, counts: WorkerCounts) -> None:
    tally.processed += counts.processed
    tally.milestones_completed += counts.milestones_completed
    for kind, n in counts.conditions.items():
        tally.conditions[kind] = tally.conditions.get(kind, 0) + n
    tally.chunks += counts.chunks
    tally.passes += counts.passes
    tally.feed_entries += counts.feed_entries
    for severity, n in counts.message_counts.items():
        tally.message_counts[severity] += n
    tally.messages.extend(counts.messages[: max(0, MESSAGES_KEPT - len(tally.messages))])
