"""What a contract status change must respect: milestones that block the new status, and the reopen rule.

- **Blocking**: a milestone can block contract statuses (``Active``, ``Closed``) until it is Completed; the
  seed's "that Status will not be available". A Cancelled milestone blocks nothing (it will never complete).
- **Reopen** (Closed -> Active): "A contract can be reopened only if all its milestones were Completed before
  it closed." Every milestone that is not Cancelled must be Completed; since a closed contract's milestones are
  not touched by people, one that is still open now was open when the contract closed.

Both refusals name every milestone in the way, so one command tells the person all there is to do.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.errors import RuleViolation
from contracts.models import Contract, Milestone
from contracts.status import ContractStatus, MilestoneStatus
from ms_prcs.approvals.config.structure import blocked_statuses
from ms_prcs.approvals.models import MilestoneWorkflow

_FINAL = (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED)


def blocking_milestones(session: Session, contract: Contract, status: ContractStatus) -> list[str]:
    """Milestones of ``contract`` not yet Completed that block ``status``, as ``KEY (Status)``."""
    rows = session.execute(
        select(Milestone, MilestoneWorkflow.blocks_statuses)
        .join(MilestoneWorkflow, MilestoneWorkflow.milestone_pk == Milestone.id)
        .where(
            Milestone.contract_pk == contract.id,
            Milestone.status.not_in(_FINAL),
            MilestoneWorkflow.blocks_statuses != "",
        )
        .order_by(Milestone.milestone_id, Milestone.milestone_num)
    ).all()
    return [f"{m.key} ({m.status})" for m, blocks in rows if status.value in blocked_statuses(blocks)]


def not_completed(session: Session, contract: Contract) -> list[str]:
    rows = session.scalars(
        select(Milestone)
        .where(Milestone.contract_pk == contract.id, Milestone.status.not_in(_FINAL))
        .order_by(Milestone.milestone_id, Milestone.milestone_num)
    )
    return [f"{m.key} ({m.status})" for m in rows]


def check_contract_status(session: Session, contract: Contract, new: ContractStatus) -> None:
    """Refuse moving ``contract`` to ``new`` when a milestone blocks it, or when it is a reopen that the
    reopen rule forbids. Called before the status changes; raises :class:`RuleViolation`."""
    obj = f"contract {contract.key}"
    if contract.status == ContractStatus.CLOSED and new == ContractStatus.ACTIVE:
        open_ones = not_completed(session, contract)
        if open_ones:
            raise RuleViolation(
                obj,
                "cannot be reopened: a contract can be reopened only if all its milestones were Completed"
                " before it closed; not Completed: " + ", ".join(open_ones),
            )
    if contract.status == new:
        return
    blockers = blocking_milestones(session, contract, new)
    if blockers:
        raise RuleViolation(
            obj, f"cannot be set {new}: blocked until these milestones are Completed: " + ", ".join(blockers)
        )
