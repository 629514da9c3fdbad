"""Warnings about Ready milestones that cannot complete as things stand, so nobody waits for them in vain.

Two kinds: a condition that is blocked (a Date without a date, a reference to a Cancelled milestone, ...)
on a milestone that needs it (ALL) or has nothing else (ONE, every Ready condition blocked); and milestone
references that form a cycle. The Ready edit checks refuse both, but data can arrive by other roads (a
load, a date cleared while Pending, a direct insert), and the engine must neither loop nor stay silent.
"""

from __future__ import annotations

import sqlalchemy as sa

from conditions import milestone as milestone_condition
from conditions import registry
from conditions.cycles import closed_walk, cyclic_components
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.required import satisfied_sql
from contracts.schema import table_of
from contracts.sql_hints import among, plain
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import RunMessage, Severity
from ms_prcs.engine.tables import BLOCKED_CONDITIONS

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_k = table_of(Contract)


def _key(bu: str, contract: str, mid: str, num: int) -> str:
    return f"{bu}/{contract}/{mid}/{num}"


def blocked_warnings(ctx: RunContext) -> list[RunMessage]:
    """One warning per blocked condition of a chunk milestone that is still Ready and cannot complete."""
    c2 = _c.alias("ms_prcs_other")
    ref = _m.alias("ms_prcs_ref")
    ref_k = _k.alias("ms_prcs_ref_k")
    # It can still complete when its required conditions hold over "Completed, or Ready and not blocked"
    # (contracts.required: ALL, any blocked one stops it; ONE, only all of them blocked do).
    can_complete = satisfied_sql(
        _m.c.required_conditions,
        sa.or_(
            c2.c.condition_status == ConditionStatus.COMPLETED,
            c2.c.id.not_in(sa.select(BLOCKED_CONDITIONS.c.condition_pk)),
        ),
        c2,
        c2.c.milestone_pk == _m.c.id,
    )
    rows = ctx.conn.execute(
        sa.select(
            _k.c.business_unit,
            _k.c.contract_num,
            _m.c.milestone_id,
            _m.c.milestone_num,
            _c.c.condition_seq,
            _c.c.condition_type,
            _c.c.source,
            _c.c.project_id,
            _c.c.activity_id,
            _c.c.activity_status,
            ref_k.c.business_unit.label("ref_bu"),
            ref_k.c.contract_num.label("ref_contract"),
            ref.c.milestone_id.label("ref_mid"),
            ref.c.milestone_num.label("ref_num"),
        )
        .select_from(
            _c.join(_m, _m.c.id == _c.c.milestone_pk)
            .join(_k, _k.c.id == _m.c.contract_pk)
            .outerjoin(ref, ref.c.id == _c.c.ref_milestone_pk)
            .outerjoin(ref_k, ref_k.c.id == ref.c.contract_pk)
        )
        .where(
            # not a join from the scratch table (see among)
            among(_c.c.id, sa.select(BLOCKED_CONDITIONS.c.condition_pk)),
            plain(_m.c.status) == MilestoneStatus.READY,
            ~can_complete,
        )
        .order_by(_m.c.id, _c.c.condition_seq)
    ).all()
    messages = []
    for row in rows:
        ref_key = _key(row.ref_bu, row.ref_contract, row.ref_mid, row.ref_num) if row.ref_mid else None
        reason = registry.kind(row.condition_type).blocked_reason(_Blocked(row, ref_key))
        messages.append(
            RunMessage(
                Severity.WARNING,
                _key(row.business_unit, row.contract_num, row.milestone_id, row.milestone_num),
                f"cannot complete as things stand: condition {row.condition_seq} ({row.condition_type}) {reason}",
            )
        )
    return messages


class _Blocked:
    """The fields a type's ``blocked_reason`` reads."""

    def __init__(self, row: sa.Row[tuple[object, ...]], ref_key: str | None) -> None:
        self.source = row.source
        self.project_id = row.project_id
        self.activity_id = row.activity_id
        self.activity_status = row.activity_status
        self.ref_key = ref_key


def cycle_warnings(ctx: RunContext) -> list[RunMessage]:
    """One warning per cycle of Ready milestones (in scope) waiting on each other through Contracts
    milestone conditions.

    Only edges that can lie on a cycle are loaded: both ends must wait on something and be waited on
    (a chain's first and last links never are), so a run over long but acyclic chains loads next to
    nothing; strongly connected components of what remains are the cycles.
    """
    referrer = _m.alias("ms_prcs_referrer")
    ref = _m.alias("ms_prcs_ref")
    c_out = _c.alias("ms_prcs_out")
    out_ref = _m.alias("ms_prcs_out_ref")
    c_in = _c.alias("ms_prcs_in")
    in_referrer = _m.alias("ms_prcs_in_referrer")

    def waiting(
        c: sa.FromClause, waiter: sa.FromClause, waited: sa.FromClause
    ) -> list[sa.ColumnElement[bool]]:
        return [
            plain(c.c.condition_status) == ConditionStatus.READY,
            c.c.condition_type == ConditionType.MILESTONE,
            milestone_condition.is_contracts(c),
            plain(waiter.c.status) == MilestoneStatus.READY,
            plain(waited.c.status) == MilestoneStatus.READY,
        ]

    ref_waits = sa.exists(
        sa.select(sa.literal(1))
        .select_from(c_out.join(out_ref, out_ref.c.id == c_out.c.ref_milestone_pk))
        .where(c_out.c.milestone_pk == _c.c.ref_milestone_pk, *waiting(c_out, ref, out_ref))
    )
    referrer_awaited = sa.exists(
        sa.select(sa.literal(1))
        .select_from(c_in.join(in_referrer, in_referrer.c.id == c_in.c.milestone_pk))
        .where(c_in.c.ref_milestone_pk == _c.c.milestone_pk, *waiting(c_in, in_referrer, referrer))
    )
    edges = ctx.conn.execute(
        sa.select(_c.c.milestone_pk, _c.c.ref_milestone_pk)
        .select_from(
            _c.join(referrer, referrer.c.id == _c.c.milestone_pk).join(ref, ref.c.id == _c.c.ref_milestone_pk)
        )
        .where(
            _c.c.condition_status == ConditionStatus.READY,
            _c.c.condition_type == ConditionType.MILESTONE,
            milestone_condition.is_contracts(_c),
            plain(referrer.c.status) == MilestoneStatus.READY,
            plain(ref.c.status) == MilestoneStatus.READY,
            ctx.scope.predicate(referrer),
            ref_waits,
            referrer_awaited,
        )
        .order_by(_c.c.milestone_pk, _c.c.ref_milestone_pk)  # the walk, so the message, follows this order
    ).all()
    graph: dict[int, list[int]] = {}
    for src, dst in edges:
        graph.setdefault(int(src), []).append(int(dst))
    cycles = cyclic_components(graph)
    if not cycles:
        return []
    members = sorted({pk for cycle in cycles for pk in cycle})
    keys = {
        pk: _key(bu, contract, mid, num)
        for pk, bu, contract, mid, num in ctx.conn.execute(
            sa.select(_m.c.id, _k.c.business_unit, _k.c.contract_num, _m.c.milestone_id, _m.c.milestone_num)
            .join(_k, _k.c.id == _m.c.contract_pk)
            .where(_m.c.id.in_(members))
        )
    }
    messages = []
    for cycle in sorted(cycles):
        path = closed_walk(graph, cycle)
        messages.append(
            RunMessage(
                Severity.WARNING,
                keys[path[0]],
                "cannot complete as things stand: milestone references form a cycle: "
                + " -> ".join(keys[pk] for pk in path),
            )
        )
    return messages
