"""Decisions on an approval: approve (Mark Complete by an eligible approver), deny (Not Approved, with its
note), and unapprove (undo Mark Complete, until the milestone is Completed).

Approving *is* Mark Complete (``contracts.milestones.mark_complete``): the condition is Completed and the next
run completes the milestone; every PeopleSoft rule of Mark Complete (milestone Ready, classification) holds on
top of the approver rule. A denial changes no PeopleSoft status: the condition stays Ready, the approval is
Not Approved until someone resubmits it. Every decision is kept in the approval's history with who, when and
the note. A decision carries its follow-ups; they run in :mod:`ms_prcs.approvals.hooks` (the entry
point), which keeps the decision and its follow-ups in one transaction.

Before deciding, the contract's automatic submit modes are brought up to date (:func:`submit.auto_submit`),
so an approver can act on what a mode submits without waiting for the next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from contracts import milestones
from contracts.audit import Who
from contracts.errors import NotAuthorized, RuleViolation
from contracts.keys import MilestoneKey, get_condition
from contracts.models import MilestoneCondition
from contracts.status import MilestoneStatus
from ms_prcs.approvals import inbox
from ms_prcs.approvals.config.approval import FollowUp, RuleSpec, get_rule
from ms_prcs.approvals.rules import approver_problem, approvers
from ms_prcs.approvals.states import Action, ApprovalState
from ms_prcs.approvals.submit import auto_submit, current_state, since, write_actions
from ms_prcs.approvals.view import milestone_approvals


@dataclass(frozen=True)
class Decision:
    """What was decided, and what follows: the rule's follow-ups and notes for the person who decided."""

    key: MilestoneKey
    seq: int
    action: Action
    note: str
    condition_pk: int
    milestone_pk: int
    contract_pk: int
    rule: RuleSpec
    notes: tuple[str, ...] = ()

    @property
    def followups(self) -> tuple[FollowUp, ...]:
        if self.action == Action.APPROVED:
            return self.rule.on_approve
        if self.action == Action.NOT_APPROVED:
            return self.rule.on_deny
        return ()


def _obj(key: MilestoneKey, seq: int) -> str:
    return f"approval of condition {seq} of milestone {key}"


def _prepare(
    session: Session, key: MilestoneKey, seq: int, who: Who
) -> tuple[MilestoneCondition, RuleSpec, list[str]]:
    """The condition and its rule, after submitting what the contract's automatic modes call for."""
    condition = get_condition(session, key, seq)
    rule = get_rule(session, condition)
    contract_pk = condition.milestone.contract_pk
    submitted = auto_submit(
        session.connection(), lambda m: m.c.contract_pk == contract_pk, who, who.at.date()
    )
    session.expire_all()
    return get_condition(session, key, seq), rule, [s.note() for s in submitted]


def _check_approver(
    session: Session, condition: MilestoneCondition, rule: RuleSpec, who: Who, obj: str
) -> None:
    problem = approver_problem(session, rule, condition.milestone.contract_pk, who.user)
    if problem:
        raise NotAuthorized(who.user, obj, problem)


def _check_waiting(state: ApprovalState, last: object, rule: RuleSpec, obj: str, verb: str) -> None:
    if state == ApprovalState.APPROVED:
        raise RuleViolation(obj, "is already Approved")
    if state == ApprovalState.NOT_READY:
        raise RuleViolation(
            obj,
            f"is Not Ready for Approval; it must be submitted first (it is submitted {rule.submit.describe()})",
        )
    if state == ApprovalState.NOT_APPROVED:
        raise RuleViolation(
            obj, f"was Not Approved {since(last)}; it must be resubmitted before it can be {verb}"
        )


def _prepare_decision(
    session: Session, key: MilestoneKey, seq: int, who: Who, note: str, verb: Literal["approve", "deny"]
) -> tuple[MilestoneCondition, RuleSpec, list[str]]:
    """What approving and denying both check first: the approval waits for a decision, ``who`` is one of its
    approvers, and the note is there when the rule asks for one on this decision."""
    condition, rule, notes = _prepare(session, key, seq, who)
    obj = _obj(key, seq)
    state, last = current_state(session, condition)
    _check_waiting(state, last, rule, obj, "approved" if verb == "approve" else "denied")
    _check_approver(session, condition, rule, who, obj)
    if (rule.note_on_approve if verb == "approve" else rule.note_on_deny) and not note.strip():
        raise RuleViolation(obj, f"a note is required to {verb} it (note required on {verb})")
    return condition, rule, notes


def approve(session: Session, key: MilestoneKey, seq: int, who: Who, note: str = "") -> Decision:
    """Approve a submitted approval: ``who`` must be an approver, with a note when the rule asks for one."""
    condition, rule, notes = _prepare_decision(session, key, seq, who, note, "approve")
    milestone_pk, contract_pk = condition.milestone_pk, condition.milestone.contract_pk
    milestones.mark_complete(session, key, seq, who)
    conn = session.connection()
    write_actions(conn, [(condition.id, Action.APPROVED, "", note.strip())], who)
    inbox.close_requests(conn, [(milestone_pk, seq)])
    session.expire_all()
    return Decision(
        key, seq, Action.APPROVED, note.strip(), condition.id, milestone_pk, contract_pk, rule, tuple(notes)
    )


def deny(session: Session, key: MilestoneKey, seq: int, who: Who, note: str = "") -> Decision:
    """Not Approved: kept with its note; the condition stays Ready and the approval can be resubmitted."""
    condition, rule, notes = _prepare_decision(session, key, seq, who, note, "deny")
    obj = _obj(key, seq)
    milestone = condition.milestone
    if milestone.status not in (MilestoneStatus.PENDING, MilestoneStatus.READY):
        raise RuleViolation(obj, f"cannot be denied: the milestone is {milestone.status}")
    conn = session.connection()
    write_actions(conn, [(condition.id, Action.NOT_APPROVED, "", note.strip())], who)
    inbox.close_requests(conn, [(milestone.id, seq)])
    decision = Decision(
        key,
        seq,
        Action.NOT_APPROVED,
        note.strip(),
        condition.id,
        milestone.id,
        milestone.contract_pk,
        rule,
        tuple(notes),
    )
    session.expire_all()
    return decision


def unapprove(session: Session, key: MilestoneKey, seq: int, who: Who) -> Decision:
    """Take an approval back (manual or automatic) until the milestone is Completed: the condition is Ready
    again and the approval waits for an approver (Ready for Approval); its approvers are asked again."""
    condition = get_condition(session, key, seq)
    rule = get_rule(session, condition)
    obj = _obj(key, seq)
    state, _ = current_state(session, condition)
    if state != ApprovalState.APPROVED:
        raise RuleViolation(obj, f"is {state}; only an Approved approval can be unapproved")
    _check_approver(session, condition, rule, who, obj)
    milestone = condition.milestone
    milestone_pk, contract_pk, descr = milestone.id, milestone.contract_pk, condition.descr
    milestones.undo_mark_complete(session, key, seq, who)
    conn = session.connection()
    write_actions(conn, [(condition.id, Action.UNAPPROVED, "", "")], who)
    (people,) = approvers(conn, [(contract_pk, rule)])
    told = sorted({*people, *inbox.assignees(conn, [milestone_pk]).get(milestone_pk, ())})
    text = inbox.request_text(seq, str(key), descr, f"unapproved by {who.user}")
    inbox.notify(conn, [inbox.Notice(u, milestone_pk, text) for u in told], who.at)
    session.expire_all()
    notes = (f"asked again: {', '.join(told)}",) if told else ()
    return Decision(key, seq, Action.UNAPPROVED, "", condition.id, milestone_pk, contract_pk, rule, notes)


def still_open(session: Session, contract_pk: int, as_of: dt.date) -> list[str]:
    """Approvals of the contract's open milestones that are not Approved: what Save & Complete refuses to
    leave behind (``US001/K1000/MS100/1#1 (Ready for Approval)``)."""
    views = milestone_approvals(
        session, as_of, lambda m: m.c.contract_pk == contract_pk, with_approvals_only=True
    )
    return [
        f"{v.key}#{a.seq} ({a.state})"
        for v in views
        if v.status in (MilestoneStatus.PENDING, MilestoneStatus.READY)
        for a in v.approvals
        if a.state != ApprovalState.APPROVED
    ]
