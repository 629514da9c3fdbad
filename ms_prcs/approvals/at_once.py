"""Deciding an approval, for every front end (the CLI and the HTTP service call these, nothing else).

An approval that completes what its milestone needs has the engine complete the milestone **at once**
(DESIGN 11, blocking: "approving unblocks"): the decision is committed, then a run scoped to the milestone
and what its completion frees (``RunControl.reach = freed``, trigger ``approval``) completes it with its own
ProcessRun, StatusChange and feed rows, so blocked contract statuses, the Impact report and billing
eligibility follow immediately. A rule with ``complete_at_once`` off leaves it to the next run.

Exactly once: the run takes the run lock of the milestone's business units like any run. If a nightly run
holds it, the approval's run waits up to ``lock_wait_s``; whichever run reaches the milestone first
completes it, and the other finds it no longer Ready. If the lock is still held after the wait, the approval
stands and the note says that the running or the next run completes the milestone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.audit import Who
from contracts.errors import RunLocked
from contracts.keys import MilestoneKey, get_condition, get_milestone
from contracts.models import Contract, Milestone
from contracts.required import satisfied
from contracts.status import ConditionStatus, MilestoneStatus
from ms_prcs.approvals import hooks
from ms_prcs.approvals.config.approval import get_rule
from ms_prcs.db import transaction
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.engine.reach import Reach
from ms_prcs.engine.runlock import LockPolicy
from ms_prcs.settings import Settings

APPROVAL_TRIGGER = "approval"
DEFAULT_LOCK_WAIT_S = 30.0


@dataclass(frozen=True)
class ApprovalOutcome:
    """Notes for the approver, and the run that completed the milestone at once (None: no run was due)."""

    notes: tuple[str, ...]
    run: RunResult | None = None


def approve(
    engine: sa.Engine,
    settings: Settings,
    key: MilestoneKey,
    seq: int,
    who: Who,
    note: str = "",
    *,
    complete_contract: bool = False,
    as_of: dt.date | None = None,
    lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
) -> ApprovalOutcome:
    """Approve approval ``seq`` of milestone ``key`` (with its follow-ups, and Save & Complete with
    ``complete_contract``) in one transaction; then, when the approval completed what the milestone needs and
    its rule says ``complete_at_once``, complete the milestone at once with a run as of ``as_of`` (default:
    today in the configured time zone). A refused approval raises and changes nothing."""
    with transaction(engine) as session:
        notes = hooks.approve(session, key, seq, who, note, complete_contract=complete_contract)
        due = completes_at_once(session, key, seq)
    if not due:
        return ApprovalOutcome(tuple(notes))
    run, said = complete_now(engine, settings, key, as_of or settings.today(), lock_wait_s)
    return ApprovalOutcome((*notes, said), run)


def completes_at_once(session: Session, key: MilestoneKey, seq: int) -> bool:
    """The approval's rule asks for it, and the milestone is Ready with its required conditions satisfied
    (contracts.required; the run then decides about steps and everything else)."""
    condition = get_condition(session, key, seq)
    if not get_rule(session, condition).complete_at_once:
        return False
    milestone = get_milestone(session, key)
    return milestone.status == MilestoneStatus.READY and satisfied(
        milestone.required_conditions,
        (c.condition_status == ConditionStatus.COMPLETED for c in milestone.conditions),
    )


def complete_now(
    engine: sa.Engine, settings: Settings, key: MilestoneKey, as_of: dt.date, lock_wait_s: float
) -> tuple[RunResult | None, str]:
    """The run an approval starts: ``key`` and what it frees, as of ``as_of``; returns it with a note."""
    control = RunControl(as_of=as_of, milestone=key, trigger=APPROVAL_TRIGGER, reach=Reach.FREED)
    policy = LockPolicy(settings.heartbeat_limit_s, wait_s=lock_wait_s)
    try:
        result = process(engine, control, settings, lock=policy)
    except RunLocked as exc:
        return None, f"not completed at once: {exc}; that run or the next completes milestone {key}"
    if str(key) in _completed(engine, result):
        more = result.milestones_completed - 1
        freed = f", and {more} milestone{'s' if more != 1 else ''} it freed" if more > 0 else ""
        said = f"milestone {key} Completed as of {as_of} by run {result.process_instance}{freed}"
    else:
        said = (
            f"run {result.process_instance} as of {as_of} did not complete milestone {key}"
            f" (see ms-prcs milestone show {key} --as-of {as_of})"
        )
    return result, said


def _completed(engine: sa.Engine, result: RunResult) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                Contract.business_unit, Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num
            )
            .join(Contract, Contract.id == Milestone.contract_pk)
            .where(Milestone.completed_by_run == result.process_instance)
        )
        return {f"{bu}/{k}/{mid}/{num}" for bu, k, mid, num in rows}
