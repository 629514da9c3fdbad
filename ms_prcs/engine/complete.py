"""Completing what was found met, and the chain passes that follow (DESIGN 4, steps 3 to 5).

Each step is a few set-based statements: update the rows, then insert their StatusChange rows from the same
scratch table, so the audit trail can never disagree with what changed. A chain pass looks only at
Contracts milestone conditions that point at milestones the previous pass completed; nothing else can have
become met within the run, because the as-of date and everything else a condition reads stay fixed.
"""

from __future__ import annotations

import sqlalchemy as sa

from conditions import milestone as milestone_condition
from contracts.audit import ObjectType, record_changes_from
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.required import satisfied_sql
from contracts.schema import table_of
from contracts.sql_hints import among, plain, unindexed
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.approvals.models import MilestoneWorkflow
from ms_prcs.approvals.steps import earlier, earlier_open
from ms_prcs.engine import tables
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.evaluate import processed_by_run
from ms_prcs.engine.tables import CHUNK_DONE, DONE, EVALUATED, MET, PASS_MILESTONES

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_k = table_of(Contract)
_w = table_of(MilestoneWorkflow)

_OWN = _c.alias("ms_prcs_c")  # a milestone's own conditions; built once (an alias copies every column)


def complete_conditions(ctx: RunContext, only: ConditionType | None = None) -> int:
    """Complete every MET condition of EVALUATED (completed_on = as-of) and audit each; count by type
    (``only``: all of them are of that type, no need to ask the database)."""
    conn = ctx.conn
    met = sa.select(EVALUATED.c.condition_pk).where(EVALUATED.c.verdict == MET)
    changed = conn.execute(
        _c.update()
        .where(among(_c.c.id, met), plain(_c.c.condition_status) == ConditionStatus.READY)
        .values(condition_status=ConditionStatus.COMPLETED, completed_on=ctx.as_of)
    ).rowcount
    if not changed:
        return 0
    record_changes_from(
        conn,
        ObjectType.CONDITION,
        met,
        ConditionStatus.READY,
        ConditionStatus.COMPLETED,
        ctx.who,
        f"met as of {ctx.as_of}",
    )
    if only is not None:
        ctx.tally.conditions[only.value] += int(changed)
        return int(changed)
    by_type = conn.execute(
        sa.select(EVALUATED.c.condition_type, sa.func.count())
        .where(EVALUATED.c.verdict == MET)
        .group_by(EVALUATED.c.condition_type)
    )
    for condition_type, count in by_type:
        ctx.tally.conditions[str(condition_type)] = ctx.tally.conditions.get(str(condition_type), 0) + int(
            count
        )
    return int(changed)


def complete_milestones(
    ctx: RunContext, candidates: sa.Table, id_range: tuple[int, int] | None = None
) -> int:
    """Complete the Ready milestones among ``candidates`` whose required conditions are met.

    ALL: no condition left that is not Completed (and at least one condition: a milestone with none never
    completes, the Ready edit checks refuse it). ONE: at least one Completed condition. The completed ones
    go to DONE (for the next chain pass) and CHUNK_DONE (for the feed).
    """
    conn = ctx.conn
    c = _OWN
    # One probe per milestone: over its conditions, the least (ALL) or greatest (ONE) of "is Completed" must
    # be 1 (contracts.required). Cheaper than NOT EXISTS / EXISTS pairs, notably on PostgreSQL where each
    # correlated subquery is a separate subplan call.
    satisfied = satisfied_sql(
        _m.c.required_conditions,
        c.c.condition_status == ConditionStatus.COMPLETED,
        c,
        c.c.milestone_pk == _m.c.id,
    )
    rows = sa.select(_m.c.id).where(
        among(_m.c.id, sa.select(candidates.c.milestone_pk)),
        plain(_m.c.status) == MilestoneStatus.READY,
        satisfied,
        steps_done(_m),
    )
    # The chunk's range repeated on every statement over its milestones: PostgreSQL then reads the chunk's
    # slice of the primary key (or of the conditions' milestone index), never the whole table, however
    # large a share of the table it guesses DONE to hold.
    in_range: list[sa.ColumnElement[bool]] = []
    owned: list[sa.ColumnElement[bool]] = []
    if id_range is not None:
        in_range.append(_m.c.id.between(*id_range))
        owned.append(_c.c.milestone_pk.between(*id_range))
    tables.clear(conn, DONE)
    done = conn.execute(DONE.insert().from_select(["milestone_pk"], rows.where(*in_range))).rowcount
    if not done:
        return 0
    tables.analyze(conn, DONE)  # PostgreSQL: a pass's few ids, not a guess from the table's pages
    finished = sa.select(DONE.c.milestone_pk)
    conn.execute(
        _m.update()
        .where(among(_m.c.id, finished), *in_range)
        .values(status=MilestoneStatus.COMPLETED, completed_on=ctx.as_of, completed_by_run=ctx.marker)
    )
    # A condition is never completed after its milestone: a Mark Complete dated after the as-of date of the
    # run that completes its milestone (a back-dated run) takes the run's as-of date, min(mark date, as-of).
    conn.execute(
        _c.update()
        .where(
            among(_c.c.milestone_pk, finished),
            *owned,
            _c.c.condition_status == ConditionStatus.COMPLETED,
            _c.c.completed_on > ctx.as_of,
        )
        .values(completed_on=ctx.as_of)
    )
    record_changes_from(
        conn,
        ObjectType.MILESTONE,
        finished,
        MilestoneStatus.READY,
        MilestoneStatus.COMPLETED,
        ctx.who,
        f"required conditions met as of {ctx.as_of}",
    )
    conn.execute(CHUNK_DONE.insert().from_select(["milestone_pk"], finished))
    ctx.tally.milestones_completed += int(done)
    return int(done)


def chain_pass(ctx: RunContext) -> int:
    """One repeat of steps 2-3 for the milestones DONE just completed; returns how many it completed.

    Only Ready Contracts milestone conditions pointing at DONE, of milestones in scope the run processes
    (Ready, or completed by this run: their conditions still count, see ``evaluate.processed_by_run``), are looked at
    (through the index on ``ref_milestone_pk``), wherever those milestones sit: in this chunk, an earlier
    one or a later one. So a chain completes in one run however its links are spread over chunks.

    Each half runs only when the run has rows for it at all (:func:`_present`): without Ready Milestone
    conditions or workflow steps a pass writes nothing and reads nothing.
    """
    conn = ctx.conn
    found = freed = 0
    if _present(ctx, "milestone conditions", _READY_MILESTONE_CONDITIONS):
        tables.clear(conn, EVALUATED, PASS_MILESTONES)
        found = conn.execute(
            EVALUATED.insert().from_select(
                ["condition_pk", "milestone_pk", "condition_type", "verdict"], _waiting_on_done(ctx)
            )
        ).rowcount
    else:
        tables.clear(conn, PASS_MILESTONES)
    if found:
        complete_conditions(ctx, only=ConditionType.MILESTONE)
        conn.execute(
            PASS_MILESTONES.insert().from_select(
                ["milestone_pk"],
                sa.select(EVALUATED.c.milestone_pk).where(EVALUATED.c.verdict == MET).distinct(),
            )
        )
    if _present(ctx, "workflow steps", _ORDERED_STEPS):
        freed = conn.execute(
            PASS_MILESTONES.insert().from_select(["milestone_pk"], _freed_by_steps(ctx))
        ).rowcount
    if not found and not freed:
        return 0
    return complete_milestones(ctx, PASS_MILESTONES)


_READY_MILESTONE_CONDITIONS = sa.select(_c.c.id).where(
    _c.c.condition_status == ConditionStatus.READY, _c.c.condition_type == ConditionType.MILESTONE
)
_ORDERED_STEPS = sa.select(_w.c.milestone_pk).where(_w.c.step > 0)


def _present(ctx: RunContext, rule: str, rows: sa.Select[tuple[int]]) -> bool:
    """Whether ``rows`` finds anything, asked once per run (one index probe, or one walk of a small table
    up to its first match). What the run itself changes cannot add rows to either question; a workflow
    step someone adds during the run is honoured by the step check of every completion
    (:func:`steps_done`), and only what it would free waits for the next run."""
    if rule not in ctx.present:
        ctx.present[rule] = ctx.conn.scalar(rows.limit(1)) is not None
    return ctx.present[rule]


def _waiting_on_done(ctx: RunContext) -> sa.Select[tuple[int, int, str, int]]:
    """The Ready Contracts milestone conditions met now that DONE's milestones are Completed.

    DONE's ids are walked into the ``ref_milestone_pk`` index (:class:`~contracts.sql_hints.among`) and
    each owner is probed by primary key. Joined from DONE instead, SQLite took the temporary table (no
    statistics) for a million rows and built a Bloom filter over the whole ``milestone`` table first, on
    every pass: the quadratic term of a large run.
    """
    c = _c
    return (
        sa.select(c.c.id, c.c.milestone_pk, c.c.condition_type, sa.literal(MET, sa.Integer))
        .select_from(c.join(_m, _m.c.id == c.c.milestone_pk))
        .where(
            among(c.c.ref_milestone_pk, sa.select(DONE.c.milestone_pk)),
            unindexed(c.c.condition_status) == ConditionStatus.READY,
            unindexed(c.c.condition_type) == ConditionType.MILESTONE,
            milestone_condition.is_contracts(c),
            milestone_condition.met(c, ctx.as_of),
            processed_by_run(ctx, _m),
            ctx.scope.predicate(_m),
        )
    )


def steps_done(m: sa.FromClause) -> sa.ColumnElement[bool]:
    """Issue 7, steps: a milestone does not complete while a milestone of an earlier step (same contract) is
    Pending or Ready, unless it may complete any time. No workflow row, or step 0, means no order."""
    w = _w.alias("ms_prcs_step_w")
    return ~sa.exists(
        sa.select(sa.literal(1)).where(
            w.c.milestone_pk == m.c.id, w.c.any_time.is_(False), earlier_open(m, w)
        )
    )


def _freed_by_steps(ctx: RunContext) -> sa.Select[tuple[int]]:
    """Ready milestones in scope of a later step than a milestone the last pass completed (DONE), on its
    contract: completing step 1 frees step 2 within the run, as completing a milestone frees its chain.

    Driven from DONE's ids (:class:`~contracts.sql_hints.among`) to their workflow rows and from there
    to the other milestones of the same contracts by the ``(contract_pk, ...)`` index: it reads the
    contracts the pass touched, nothing else (joined from DONE, SQLite scanned every milestone, every pass,
    and found nothing when there were no steps; :func:`chain_pass` now skips it then)."""
    done_w, m, w = _w.alias("ms_prcs_done_w"), _m.alias("ms_prcs_freed_m"), _w.alias("ms_prcs_freed_w")
    done_m = _m.alias("ms_prcs_done_m")
    return (
        sa.select(m.c.id)
        .select_from(
            done_m.join(done_w, done_w.c.milestone_pk == done_m.c.id)
            .join(m, m.c.contract_pk == done_m.c.contract_pk)
            .join(w, w.c.milestone_pk == m.c.id)
        )
        .where(
            among(done_m.c.id, sa.select(DONE.c.milestone_pk)),
            plain(m.c.status) == MilestoneStatus.READY,
            earlier(done_w, w.c.step, w.c.sub_step),
            ctx.scope.predicate(m),
            m.c.id.not_in(sa.select(PASS_MILESTONES.c.milestone_pk)),
        )
        .distinct()
    )


def completed_keys(ctx: RunContext) -> list[str]:
    """The keys of the milestones this chunk completed (a dry run reports them; nothing else shows them)."""
    rows = ctx.conn.execute(
        sa.select(_k.c.business_unit, _k.c.contract_num, _m.c.milestone_id, _m.c.milestone_num)
        .select_from(_m.join(_k, _k.c.id == _m.c.contract_pk))
        .where(among(_m.c.id, sa.select(CHUNK_DONE.c.milestone_pk)))
        .order_by(_k.c.business_unit, _k.c.contract_num, _m.c.milestone_id, _m.c.milestone_num)
    )
    return [f"{bu}/{contract}/{mid}/{num}" for bu, contract, mid, num in rows]
