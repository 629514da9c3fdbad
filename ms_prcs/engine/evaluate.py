"""A chunk's first pass: pick the candidates, then give every Ready condition of theirs a verdict at once.

One ``INSERT .. SELECT`` evaluates all set-based types (the registry's predicates ORed together) and notes
the conditions that are blocked and the SQL conditions (PENDING); their verdicts were already taken before the
chunk's transaction, each distinct statement once for all its conditions in the chunk, and are applied to
them next (:mod:`ms_prcs.engine.sqlconds`).
"""

from __future__ import annotations

import sqlalchemy as sa

from conditions import registry
from contracts.models import Milestone, MilestoneCondition
from contracts.schema import table_of
from contracts.sql_hints import plain
from contracts.status import ConditionStatus, MilestoneStatus
from ms_prcs.engine import tables
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.tables import BLOCKED, BLOCKED_CONDITIONS, CANDIDATES, EVALUATED

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)


def processed_by_run(ctx: RunContext, m: sa.FromClause) -> sa.ColumnElement[bool]:
    """The milestones whose Ready conditions this run evaluates: Ready ones, and those the run itself has
    completed (a chain pass may complete a ONE milestone before its chunk comes up).

    Every met condition of a milestone that was Ready when the run started ends up Completed, whichever
    condition happened to complete the milestone first; without this, which conditions of a ONE milestone
    say Completed would depend on how milestone ids fall into chunks.
    """
    return sa.or_(plain(m.c.status) == MilestoneStatus.READY, m.c.completed_by_run == ctx.marker)


def next_chunk(ctx: RunContext, after: int, limit: int) -> sa.Select[tuple[int]]:
    """The ids of the milestones the next chunk takes: the next ``limit`` in scope with an id above
    ``after`` that the run processes (:func:`processed_by_run`). The one definition, for the chunk itself
    (:func:`pick_candidates`) and for the read of its SQL conditions before its transaction."""
    return (
        sa.select(_m.c.id)
        .where(_m.c.id > after, processed_by_run(ctx, _m), ctx.scope.predicate(_m))
        .order_by(_m.c.id)
        .limit(limit)
    )


def pick_candidates(ctx: RunContext, after: int, limit: int) -> tuple[int, int, int]:
    """Fill CANDIDATES with the next ``limit`` milestones in scope with an id above ``after`` that the run
    processes (:func:`processed_by_run`).

    Returns (count, low, high): the smallest and largest candidate id. Keyset paging on the primary key, so
    each chunk is a range scan and a milestone completed by an earlier chunk's chain is simply no longer Ready
    when its turn comes.
    """
    conn = ctx.conn
    ready = next_chunk(ctx, after, limit)
    count = conn.execute(CANDIDATES.insert().from_select(["milestone_pk"], ready)).rowcount
    if not count:
        return 0, 0, 0
    # the primary key's first and last entries: a run scoped to a few milestones (an approval completing at
    # once, "why not complete") reads just their range, not every id between ``after`` and them
    lo, hi = conn.execute(
        sa.select(sa.func.min(CANDIDATES.c.milestone_pk), sa.func.max(CANDIDATES.c.milestone_pk))
    ).one()
    tables.analyze(conn, CANDIDATES)
    return int(count), int(lo), int(hi)


def evaluate_conditions(ctx: RunContext, lo: int, hi: int) -> None:
    """Fill EVALUATED with every Ready condition of the candidates and its verdict, in one statement.

    Each condition is looked at once (:func:`conditions.registry.verdict`); later steps read the verdicts
    from this small table. The ``BETWEEN`` repeats what CANDIDATES already implies so that both databases
    read ``milestone_condition`` as one index range.
    """
    c = _c
    rows = (
        sa.select(c.c.id, c.c.milestone_pk, c.c.condition_type, registry.verdict(c, ctx.as_of))
        .select_from(CANDIDATES.join(c, c.c.milestone_pk == CANDIDATES.c.milestone_pk))
        .where(c.c.milestone_pk.between(lo, hi), plain(c.c.condition_status) == ConditionStatus.READY)
    )
    ctx.conn.execute(
        EVALUATED.insert().from_select(["condition_pk", "milestone_pk", "condition_type", "verdict"], rows)
    )


def keep_blocked(ctx: RunContext) -> int:
    """Set the blocked conditions aside: EVALUATED is reused by the chain passes, the warnings come last.
    Returns how many there are (none: no warnings to look for)."""
    return int(
        ctx.conn.execute(
            BLOCKED_CONDITIONS.insert().from_select(
                ["condition_pk", "milestone_pk"],
                sa.select(EVALUATED.c.condition_pk, EVALUATED.c.milestone_pk).where(
                    EVALUATED.c.verdict == BLOCKED
                ),
            )
        ).rowcount
    )
