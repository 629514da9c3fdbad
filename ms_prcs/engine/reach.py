"""How far a run scoped to one milestone reaches (``RunControl.reach``): the milestone alone, the milestone
and everything it waits on, or the milestone and everything its completion frees.

A milestone waits on the Ready milestones its Ready Contracts milestone conditions reference, and on the
Ready milestones of earlier steps of its contract (:func:`ms_prcs.approvals.steps.earlier`, the rule the
engine's step check uses); it frees the reverse. Each closure is walked level by level, one statement per
level and direction, whatever the number of milestones in a level.

- **waited on** is what the explanation of a milestone runs over (a dry run): a run over every business unit
  completes a milestone exactly when a run over it and what it waits on does, because nothing else can
  change what its conditions and steps see.
- **freed** is what an approval's own run covers: the milestone and whatever its completion lets complete.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from conditions import milestone as milestone_condition
from contracts.models import Milestone, MilestoneCondition
from contracts.schema import table_of
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.approvals.models import MilestoneWorkflow
from ms_prcs.approvals.steps import earlier

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_w = table_of(MilestoneWorkflow)


class Reach(StrEnum):
    MILESTONE = "milestone"
    WAITED_ON = "waited-on"
    FREED = "freed"


def closure(conn: sa.Connection, start: int, reach: Reach) -> tuple[int, ...]:
    """``start`` and the Ready milestones it reaches, sorted."""
    if reach == Reach.MILESTONE:
        return (start,)
    found = {start}
    frontier = [start]
    while frontier:
        step = _waited_on(frontier) if reach == Reach.WAITED_ON else _freed(frontier)
        frontier = sorted(set(conn.scalars(step)) - found)
        found.update(frontier)
    return tuple(sorted(found))


def _reference_edge(c: sa.FromClause) -> list[sa.ColumnElement[bool]]:
    return [
        c.c.condition_type == ConditionType.MILESTONE,
        c.c.condition_status == ConditionStatus.READY,
        milestone_condition.is_contracts(c),
    ]


def _waited_on(frontier: list[int]) -> sa.Select[tuple[int]]:
    """Ready milestones the frontier waits on: those its conditions reference, and its earlier steps."""
    return _neighbours(frontier, towards_earlier=True)


def _freed(frontier: list[int]) -> sa.Select[tuple[int]]:
    """Ready milestones the frontier may free: those whose conditions reference it, and its later steps."""
    return _neighbours(frontier, towards_earlier=False)


def _neighbours(frontier: list[int], *, towards_earlier: bool) -> sa.Select[tuple[int]]:
    """One edge walk in either direction: the reference edge (condition owner <-> referenced milestone) and
    the step edge (a milestone <-> the milestones of earlier steps of its contract)."""
    c, other = _c.alias("ms_prcs_reach_c"), _m.alias("ms_prcs_reach_other")
    near, far = (
        (c.c.milestone_pk, c.c.ref_milestone_pk)
        if towards_earlier
        else (c.c.ref_milestone_pk, c.c.milestone_pk)
    )
    refs = (
        sa.select(other.c.id)
        .select_from(c.join(other, other.c.id == far))
        .where(near.in_(frontier), other.c.status == MilestoneStatus.READY, *_reference_edge(c))
    )
    m, w, m2, w2 = _step_aliases()
    later, early = (w, w2) if towards_earlier else (w2, w)
    steps = (
        sa.select(m2.c.id)
        .select_from(
            m.join(w, w.c.milestone_pk == m.c.id)
            .join(m2, m2.c.contract_pk == m.c.contract_pk)
            .join(w2, w2.c.milestone_pk == m2.c.id)
        )
        .where(
            m.c.id.in_(frontier),
            later.c.any_time.is_(False),
            m2.c.status == MilestoneStatus.READY,
            earlier(early, later.c.step, later.c.sub_step),
        )
    )
    return sa.union(refs, steps)  # type: ignore[return-value]


def _step_aliases() -> tuple[sa.FromClause, sa.FromClause, sa.FromClause, sa.FromClause]:
    return (
        _m.alias("ms_prcs_reach_m"),
        _w.alias("ms_prcs_reach_w"),
        _m.alias("ms_prcs_reach_m2"),
        _w.alias("ms_prcs_reach_w2"),
    )
