"""Approvals (DESIGN 11), addressed like conditions: submit, unsubmit, approve, deny, unapprove, the view.

The approver is the signed-in user: the approver rule (roles, contract team roles, users; notes on approve
or deny) is checked by :mod:`ms_prcs.approvals` against that identity, as for ``--user`` in the CLI.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from contracts.keys import get_milestone
from ms_prcs.approvals import decide, hooks, submit, view
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models import ApproveBody, Changed, Note
from ms_prcs.service.models_ops import MilestoneApprovals
from ms_prcs.service.routes.keys import MILESTONE, MKey, Num

router = APIRouter(tags=["approvals"])
APPROVAL = f"{MILESTONE}/approvals/{{seq}}"


@router.get(f"{MILESTONE}/approvals", response_model=MilestoneApprovals)
def show(key: MKey, caller: Reader, ctx: Service, as_of: dt.date | None = None) -> MilestoneApprovals:
    """The milestone's approval view and every decision with who, when and the note (``approval show``)."""
    with ctx.transaction() as session:
        pk = get_milestone(session, key).id
        (found,) = view.milestone_approvals(
            session, as_of or ctx.today(), view.milestones_in([pk]), every=True
        )
        return MilestoneApprovals.model_validate({**found.to_json(), "history": view.history(session, pk)})


@router.post(f"{APPROVAL}/submit", response_model=Changed)
def submit_approval(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Submit by hand (or resubmit after a denial): Ready for Approval."""
    with ctx.transaction() as session:
        result = submit.submit(session, key, seq, caller.who())
    return Changed(
        milestone=str(key), seq=seq, notes=[f"notified {u}" for u in result.notified], message=result.note()
    )


@router.post(f"{APPROVAL}/unsubmit", response_model=Changed)
def unsubmit(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Take back a submission made by hand, until an approver acts on it."""
    with ctx.transaction() as session:
        submit.unsubmit(session, key, seq, caller.who())
    return Changed(
        milestone=str(key),
        seq=seq,
        message=f"approval of condition {seq} of {key} unsubmitted (Not Ready for Approval)",
    )


@router.post(f"{APPROVAL}/approve", response_model=Changed)
def approve(key: MKey, seq: Num, body: ApproveBody, caller: Writer, ctx: Service) -> Changed:
    """Approve as an eligible approver (Mark Complete), running the rule's follow-ups."""
    with ctx.transaction() as session:
        notes = hooks.approve(
            session, key, seq, caller.who(), body.note, complete_contract=body.complete_contract
        )
    return Changed(
        milestone=str(key),
        seq=seq,
        notes=notes,
        message=f"approval of condition {seq} of {key} approved by {caller.user_id}",
    )


@router.post(f"{APPROVAL}/deny", response_model=Changed)
def deny(key: MKey, seq: Num, body: Note, caller: Writer, ctx: Service) -> Changed:
    """Deny (Not Approved, with the note the rule may require)."""
    with ctx.transaction() as session:
        notes = hooks.deny(session, key, seq, caller.who(), body.note)
    return Changed(
        milestone=str(key),
        seq=seq,
        notes=notes,
        message=f"approval of condition {seq} of {key} not approved by {caller.user_id}",
    )


@router.post(f"{APPROVAL}/unapprove", response_model=Changed)
def unapprove(key: MKey, seq: Num, caller: Writer, ctx: Service) -> Changed:
    """Take an approval back until the milestone is Completed: Ready for Approval again."""
    with ctx.transaction() as session:
        notes = list(decide.unapprove(session, key, seq, caller.who()).notes)
    return Changed(
        milestone=str(key),
        seq=seq,
        notes=notes,
        message=f"approval of condition {seq} of {key} unapproved (Ready for Approval)",
    )
