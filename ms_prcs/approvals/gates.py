"""Stage gates: named, ordered groups of a contract's milestones, with a status derived, never stored.

A gate's status, from its milestones that are not Cancelled (a Cancelled milestone is nothing left to do):

- **Complete**: every one of them is Completed (a gate with none left is Complete too: nothing holds it);
- **Active**: not Complete, and either it is the contract's first gate (in gate order) that is not Complete
  (the phase the contract is in: "which step of the process you are in"), or some milestone of it is
  already Completed (work on it has started, e.g. an "any time" approval);
- **Not Started**: otherwise.

Gate order is ``stage_gate.gate_seq``: the order in which the contract's milestones first named the gates,
unless changed with :func:`order_gates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.errors import InvalidInput, NotFound
from contracts.keys import ContractKey, get_contract
from contracts.models import Contract, Milestone
from contracts.status import MilestoneStatus
from ms_prcs.approvals.models import MilestoneWorkflow, StageGate
from ms_prcs.approvals.steps import describe as describe_step


class GateStatus(StrEnum):
    NOT_STARTED = "Not Started"
    ACTIVE = "Active"
    COMPLETE = "Complete"


GATE_STATUSES: dict[str, GateStatus] = {s.value.lower(): s for s in GateStatus} | {
    s.value.lower().replace(" ", "-"): s for s in GateStatus
}
"""Accepted spellings on the command line: ``active``, ``complete``, ``not-started`` / ``not started``."""


def derive(counts: Sequence[tuple[int, int]]) -> list[GateStatus]:
    """Statuses of one contract's gates, in gate order, from (milestones not Cancelled, of them Completed)."""
    statuses: list[GateStatus] = []
    open_seen = False
    for live, completed in counts:
        if completed >= live:
            statuses.append(GateStatus.COMPLETE)
            continue
        statuses.append(GateStatus.ACTIVE if not open_seen or completed > 0 else GateStatus.NOT_STARTED)
        open_seen = True
    return statuses


@dataclass(frozen=True)
class GateView:
    contract_pk: int
    contract: str
    name: str
    gate_seq: int
    status: GateStatus
    milestones: int
    completed: int

    def row(self) -> dict[str, object]:
        return {
            "contract": self.contract,
            "gate": self.name,
            "seq": self.gate_seq,
            "status": self.status.value,
            "milestones": self.milestones,
            "completed": self.completed,
        }


def gate_views(session: Session, contract_pks: Sequence[int] | None = None) -> dict[int, list[GateView]]:
    """Every gate of the given contracts (all contracts with gates when ``None``), in gate order: one
    grouped query."""
    members = (
        sa.select(Milestone.contract_pk, MilestoneWorkflow.stage_gate, Milestone.status)
        .join(Milestone, Milestone.id == MilestoneWorkflow.milestone_pk)
        .where(MilestoneWorkflow.stage_gate.is_not(None), Milestone.status != MilestoneStatus.CANCELLED)
    )
    if contract_pks is not None:
        members = members.where(Milestone.contract_pk.in_(contract_pks))
    m = members.subquery("ms_prcs_gate_members")
    completed = sa.func.sum(sa.case((m.c.status == MilestoneStatus.COMPLETED.value, 1), else_=0))
    query = (
        sa.select(
            StageGate.contract_pk,
            Contract.business_unit,
            Contract.contract_num,
            StageGate.name,
            StageGate.gate_seq,
            sa.func.count(m.c.status),
            completed,
        )
        .join(Contract, Contract.id == StageGate.contract_pk)
        .outerjoin(m, sa.and_(m.c.contract_pk == StageGate.contract_pk, m.c.stage_gate == StageGate.name))
        .group_by(
            StageGate.contract_pk,
            Contract.business_unit,
            Contract.contract_num,
            StageGate.name,
            StageGate.gate_seq,
        )
        .order_by(StageGate.contract_pk, StageGate.gate_seq, StageGate.name)
    )
    if contract_pks is not None:
        if not contract_pks:
            return {}
        query = query.where(StageGate.contract_pk.in_(contract_pks))
    by_contract: dict[int, list[tuple[str, str, int, int, int]]] = {}
    for pk, bu, num, name, seq, total, done in session.execute(query):
        by_contract.setdefault(pk, []).append((f"{bu}/{num}", name, seq, int(total or 0), int(done or 0)))
    views: dict[int, list[GateView]] = {}
    for pk, rows in by_contract.items():
        statuses = derive([(total, done) for _, _, _, total, done in rows])
        views[pk] = [
            GateView(pk, key, name, seq, status, total, done)
            for (key, name, seq, total, done), status in zip(rows, statuses, strict=True)
        ]
    return views


def list_gates(session: Session, key: ContractKey) -> list[GateView]:
    contract = get_contract(session, key)
    return gate_views(session, [contract.id]).get(contract.id, [])


def current_gate(gates: Sequence[GateView]) -> GateView | None:
    """The gate a contract is in: its first gate that is not Complete, else its last gate."""
    for gate in gates:
        if gate.status != GateStatus.COMPLETE:
            return gate
    return gates[-1] if gates else None


def order_gates(session: Session, key: ContractKey, names: Sequence[str]) -> list[GateView]:
    """Put the named gates first, in the order given; the others keep their order after them."""
    contract = get_contract(session, key)
    gates = list(
        session.scalars(
            sa.select(StageGate)
            .where(StageGate.contract_pk == contract.id)
            .order_by(StageGate.gate_seq, StageGate.name)
        )
    )
    by_name = {g.name: g for g in gates}
    for name in names:
        if name not in by_name:
            raise NotFound("stage gate", f"{name} of contract {key}")
    if len(set(names)) != len(names):
        raise InvalidInput(f"contract {key}: a stage gate is named twice in the order")
    ordered = [by_name[n] for n in names] + [g for g in gates if g.name not in names]
    for seq, gate in enumerate(ordered, start=1):
        gate.gate_seq = seq
    session.flush()
    return list_gates(session, key)


@dataclass(frozen=True)
class MilestoneGate:
    step: int
    sub_step: int
    any_time: bool
    gate: str | None
    gate_status: GateStatus | None
    optional: bool
    blocks: str


def milestone_gates(session: Session, contract_pks: Sequence[int] | None = None) -> dict[int, MilestoneGate]:
    """Step and gate (with its status) of every milestone that has a workflow row, by milestone pk."""
    query = sa.select(
        MilestoneWorkflow.milestone_pk,
        Milestone.contract_pk,
        MilestoneWorkflow.step,
        MilestoneWorkflow.sub_step,
        MilestoneWorkflow.any_time,
        MilestoneWorkflow.stage_gate,
        MilestoneWorkflow.optional,
        MilestoneWorkflow.blocks_statuses,
    ).join(Milestone, Milestone.id == MilestoneWorkflow.milestone_pk)
    if contract_pks is not None:
        query = query.where(Milestone.contract_pk.in_(contract_pks))
    rows = session.execute(query).all()
    gates = gate_views(session, sorted({r.contract_pk for r in rows}))
    status = {(pk, g.name): g.status for pk, views in gates.items() for g in views}
    return {
        r.milestone_pk: MilestoneGate(
            r.step,
            r.sub_step,
            bool(r.any_time),
            r.stage_gate,
            status.get((r.contract_pk, r.stage_gate)) if r.stage_gate else None,
            bool(r.optional),
            r.blocks_statuses or "",
        )
        for r in rows
    }


def _status_filter(text: str | None) -> GateStatus | None:
    if text is None:
        return None
    status = GATE_STATUSES.get(text.strip().lower())
    if status is None:
        raise InvalidInput(f"gate status {text!r} is not one of Not Started, Active, Complete")
    return status


def annotate_milestones(
    session: Session, rows: list[dict[str, object]], gate: str | None = None, gate_status: str | None = None
) -> list[dict[str, object]]:
    """Add ``step``, ``gate`` and ``gate_status`` to milestone list rows (keyed ``milestone``), keeping only
    those in gate ``gate`` and/or whose gate has status ``gate_status``."""
    wanted = _status_filter(gate_status)
    m, k = Milestone, Contract
    query = (
        sa.select(k.business_unit, k.contract_num, m.milestone_id, m.milestone_num, m.id)
        .join(m, m.contract_pk == k.id)
        .join(MilestoneWorkflow, MilestoneWorkflow.milestone_pk == m.id)
    )
    keys = {f"{bu}/{num}/{mid}/{n}": pk for bu, num, mid, n, pk in session.execute(query)}
    info = milestone_gates(session, None) if keys else {}
    out: list[dict[str, object]] = []
    for row in rows:
        g = info.get(keys.get(str(row["milestone"]), -1))
        row = dict(row)
        row["step"] = describe_step(g.step, g.sub_step) if g else "-"
        row["gate"] = g.gate if g else None
        row["gate_status"] = g.gate_status.value if g and g.gate_status else None
        if gate is not None and row["gate"] != gate:
            continue
        if wanted is not None and row["gate_status"] != wanted.value:
            continue
        out.append(row)
    return out


def annotate_contracts(
    session: Session, rows: list[dict[str, object]], gate: str | None = None, gate_status: str | None = None
) -> list[dict[str, object]]:
    """Add ``gate`` (the gate the contract is in) and ``gate_status`` to contract list rows (keyed
    ``contract``). With ``gate``: only contracts having that gate, and the columns show that gate; with
    ``gate_status``: only those whose shown gate has that status."""
    wanted = _status_filter(gate_status)
    by_key = {views[0].contract: views for views in gate_views(session, None).values() if views}
    out: list[dict[str, object]] = []
    for row in rows:
        views = by_key.get(str(row["contract"]), [])
        shown = next((v for v in views if v.name == gate), None) if gate is not None else current_gate(views)
        if gate is not None and shown is None:
            continue
        if wanted is not None and (shown is None or shown.status != wanted):
            continue
        out.append(
            {
                **row,
                "gate": shown.name if shown else None,
                "gate_status": shown.status.value if shown else None,
            }
        )
    return out
