"""How far a run scoped to one milestone reaches (``RunControl.reach``): the milestone alone, the milestone
and everything it waits on, or the milestone and everything its completion frees.

A milestone waits on the Ready milestones its Ready Contracts milestone conditions reference, and on the
Ready milestones of earlier steps of its contract (:func:`contracts.workflow.steps.earlier`, the rule the
engine's step check uses); it frees the reverse. Each closure is walked level by level, one statement per
level and direction, whatever the number of milestones in a level.

- **waited on** is what the explanation of a milestone runs over (a dry run): a run over every business unit
  completes a milestone exactly when a run over it and what it waits on does, because nothing else can
  change what its conditions and steps see.
- **freed** is what an approval's own run covers: the milestone and whatever its completion lets complete.
"""

from __future__ import annotations

from enum import StrEnum
from typing import cast

import sqlalchemy as sa

from conditions import milestone as milestone_condition
from contracts.models import Milestone, MilestoneCondition
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from contracts.workflow.steps import earlier
from contracts.workflow_models import MilestoneWorkflow

_m = cast(sa.Table, Milestone.__table__)
_c = cast(sa.Table, MilestoneCondition.__table__)
_w = cast(sa.Table, MilestoneWorkflow.__table__)


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
    c, ref = _c.alias("ms_prcs_reach_c"), _m.alias("ms_prcs_reach_ref")
    refs = (
        sa.select(ref.c.id)
        .select_from(c.join(ref, ref.c.id == c.c.ref_milestone_pk))
        .where(c.c.milestone_pk.in_(frontier), ref.c.status == MilestoneStatus.READY, *_reference_edge(c))
    )
    m, w, m2, w2 = _step_aliases()
    steps = (
        sa.select(m2.c.id)
        .select_from(
            m.join(w, w.c.milestone_pk == m.c.id)
            .join(m2, m2.c.contract_pk == m.c.contract_pk)
            .join(w2, w2.c.milestone_pk == m2.c.id)
        )
        .where(
            m.c.id.in_(frontier),
            w.c.any_time.is_(False),
            m2.c.status == MilestoneStatus.READY,
            earlier(w2, w.c.step, w.c.sub_step),
        )
    )
    return sa.union(refs, steps)  # type: ignore[return-value]


def _freed(frontier: list[int]) -> sa.Select[tuple[int]]:
    c, owner = _c.alias("ms_prcs_reach_c"), _m.alias("ms_prcs_reach_owner")
    refs = (
        sa.select(owner.c.id)
        .select_from(c.join(owner, owner.c.id == c.c.milestone_pk))
        .where(
            c.c.ref_milestone_pk.in_(frontier), owner.c.status == MilestoneStatus.READY, *_reference_edge(c)
        )
    )
    m, w, m2, w2 = _step_aliases()
    steps = (
        sa.select(m2.c.id)
        .select_from(
            m.join(w, w.c.milestone_pk == m.c.id)
            .join(m2, m2.c.contract_pk == m.c.contract_pk)
            .join(w2, w2.c.milestone_pk == m2.c.id)
        )
        .where(
            m.c.id.in_(frontier),
            w2.c.any_time.is_(False),
            m2.c.status == MilestoneStatus.READY,
            earlier(w, w2.c.step, w2.c.sub_step),
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
