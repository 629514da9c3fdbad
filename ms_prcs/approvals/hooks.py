"""The approval layer's one entry point: every change to a contract or a milestone that a rule reacts to.

``contracts``, ``conditions`` and ``billing_plans`` cannot import this layer, so their services make a change
without its consequences: a contract status, attribute or amount change cannot itself ready plans, submit
approvals or revert them, and a milestone added from a template does not get the template's approval rules.
Every caller that changes one (the CLI, the service's routes and pages, load files, the work queue, the demo)
goes through these functions instead, which make the change and then run every rule that reacts to it, in
the caller's transaction (a refusal by any rule undoes the change).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Unpack

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_plans import events as plan_events
from billing_plans import plans
from billing_plans.auto_ready import auto_ready
from billing_plans.keys import event_key
from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import admin, milestones
from contracts.audit import Who
from contracts.errors import MsPrcsError, RuleViolation
from contracts.keys import ContractKey, MilestoneKey, get_condition, get_contract
from contracts.models import Contract, Milestone, MilestoneCondition, PlanEvent
from contracts.status import ConditionType, ContractStatus
from ms_prcs.approvals import blocking, decide, lines, optional, unset
from ms_prcs.approvals import events as approval_events
from ms_prcs.approvals.config import copy_template_config
from ms_prcs.approvals.config.approval import ASSIGNEE, FollowUp, FollowUpKind
from ms_prcs.approvals.config.structure import UnsetAction
from ms_prcs.approvals.inbox import Notice, assignees, notify
from ms_prcs.approvals.models import ApprovalRule
from ms_prcs.approvals.rules import check_may_edit
from ms_prcs.approvals.states import Action


def change_contract_status(session: Session, key: ContractKey, new: ContractStatus, who: Who) -> list[str]:
    """Set the contract's status, then what activation implies; returns notes for the person who did it."""
    old = before_contract_status(session, key, new, who)
    admin.set_contract_status(session, key, new, who)
    notes: list[str] = after_contract_status(session, key, old, new, who)
    if new == ContractStatus.ACTIVE:
        notes += [
            f"plan {o.plan} set Ready on contract activation"
            for o in plans.ready_on_activation(session, key, who)
            if o.readied
        ]
    notes += approval_events.on_contract_status(session, key, who)
    return notes


def make_milestone_ready(session: Session, key: MilestoneKey, who: Who, rules: SqlRules) -> list[str]:
    """Set a milestone Ready (the edit checks), then submit the approvals that are already due."""
    make_ready(session, key, who, rules)
    return approval_events.on_milestone_ready(session, key.contract, who)


def change_attribute(session: Session, key: ContractKey, name: str, value: str, who: Who) -> list[str]:
    """Set a contract attribute, then what it implies: approvals submitted or withdrawn by an attribute."""
    changed = workflow_attribute_value(session, key, name) != value
    admin.set_attribute(session, key, name, value)
    notes: list[str] = []
    notes += approval_events.on_attribute_change(session, key, name, who)
    notes += after_attribute_change(session, key, who) if changed else []
    return notes


# --- milestones: added with their template's approval configuration, Mark Complete that keeps approvals ----


def add_milestone(
    session: Session,
    contract_key: ContractKey,
    milestone_id: str,
    who: Who,
    **options: Unpack[milestones.MilestoneOptions],
) -> Milestone:
    """:func:`contracts.milestones.add_milestone`; from a template, the milestone also gets its own copy of
    the template's approval rules and structure (``contracts`` cannot read the approval layer's tables)."""
    milestone = milestones.add_milestone(session, contract_key, milestone_id, who, **options)
    if options.get("from_template", False):
        copy_template_config(session, milestone)
    return milestone


def create_plan_from_template(
    session: Session,
    contract_key: ContractKey,
    line_num: int,
    template_id: str,
    who: Who,
    rules: SqlRules,
    *,
    plan_id: str | None = None,
) -> plans.CreatedPlan:
    """:func:`billing_plans.plans.create_from_template`, with each milestone it added from a milestone
    template given the template's approval rules and structure, as :func:`add_milestone` does."""
    created = plans.create_from_template(
        session, contract_key, line_num, template_id, who, rules, plan_id=plan_id
    )
    for event in created.plan.events:
        if event.milestone is not None:
            copy_template_config(session, event.milestone)
    return created


def mark_complete(session: Session, key: MilestoneKey, seq: int, who: Who) -> MilestoneCondition:
    """Mark Complete by a person: refused for an approval, which only an eligible approver approves
    (:func:`approve`); everything else is :func:`contracts.milestones.mark_complete`."""
    _refuse_approval(session, key, seq)
    return milestones.mark_complete(session, key, seq, who)


def undo_mark_complete(session: Session, key: MilestoneKey, seq: int, who: Who) -> MilestoneCondition:
    """Undo Mark Complete by a person: refused for an approval (an approver unapproves it instead)."""
    _refuse_approval(session, key, seq)
    return milestones.undo_mark_complete(session, key, seq, who)


def _refuse_approval(session: Session, key: MilestoneKey, seq: int) -> None:
    condition = get_condition(session, key, seq)
    if condition.condition_type == ConditionType.USER and session.get(ApprovalRule, condition.id) is not None:
        raise RuleViolation(f"condition {seq} of milestone {key}", milestones.APPROVAL_REFUSAL)


# --- approval decisions and their follow-ups ----------------------------------------------------------
# Follow-ups run here, beside the other reactions to a change, because one sets billing plan events Ready
# and another sets the contract status (through change_contract_status, so its own hooks run too).


def approve(
    session: Session,
    key: MilestoneKey,
    seq: int,
    who: Who,
    note: str = "",
    *,
    complete_contract: bool = False,
) -> list[str]:
    """Approve, run the rule's follow-ups, and with ``complete_contract`` close the contract in the same
    transaction (Save & Complete): refused unless this was the contract's last open approval and ``who`` may
    edit the contract. Returns notes for the approver."""
    decision = decide.approve(session, key, seq, who, note)
    notes = [*decision.notes, *run_followups(session, decision, who)]
    if complete_contract:
        notes += _save_and_complete(session, decision, who)
    return notes


def deny(session: Session, key: MilestoneKey, seq: int, who: Who, note: str = "") -> list[str]:
    """Not Approved, with its note; then the rule's follow-ups for a denial."""
    decision = decide.deny(session, key, seq, who, note)
    return [*decision.notes, *run_followups(session, decision, who)]


def run_followups(session: Session, decision: decide.Decision, who: Who) -> list[str]:
    """Each follow-up in its own savepoint: one that ``who`` has no right to run, or that a rule refuses, is
    skipped with a note saying why (the seed: the prompt "will not appear"), and the decision stands."""
    notes: list[str] = []
    for followup in decision.followups:
        try:
            with session.begin_nested():
                notes += _followup(session, decision, followup, who)
        except MsPrcsError as exc:
            notes.append(f"follow-up {followup} skipped: {exc}")
    return notes


def _followup(session: Session, decision: decide.Decision, followup: FollowUp, who: Who) -> list[str]:
    contract = session.get(Contract, decision.contract_pk)
    assert contract is not None
    contract_key = ContractKey(contract.business_unit, contract.contract_num)
    if followup.kind == FollowUpKind.NOTIFY:
        users = (
            assignees(session, [decision.milestone_pk]).get(decision.milestone_pk, [])
            if followup.arg == ASSIGNEE
            else [followup.arg]
        )
        if not users:
            raise RuleViolation(f"milestone {decision.key}", "is assigned to nobody")
        verdict = "approved" if decision.action == Action.APPROVED else "not approved"
        note = f": {decision.note}" if decision.note else ""
        text = f"Follow-up: condition {decision.seq} of {decision.key} {verdict} by {who.user}{note}"
        notify(session.connection(), [Notice(u, decision.milestone_pk, text) for u in users], who.at)
        return [f"follow-up {followup}: notified {', '.join(users)}"]
    if followup.kind == FollowUpKind.CONTRACT_STATUS:
        new = ContractStatus(followup.arg)
        check_may_edit(session, contract, who.user, f"set the contract {new} (follow-up)")
        if contract.status == new:
            return [f"follow-up {followup}: contract {contract_key} is already {new}"]
        notes = change_contract_status(session, contract_key, new, who)
        return [*notes, f"follow-up {followup}: contract {contract_key} is {new}"]
    check_may_edit(session, contract, who.user, "set plan events Ready (follow-up)")
    waiting = list(
        session.scalars(
            select(PlanEvent)
            .where(PlanEvent.milestone_pk == decision.milestone_pk, PlanEvent.status == plan_events.PENDING)
            .order_by(PlanEvent.plan_pk, PlanEvent.event_num)
        )
    )
    if not waiting:
        return [f"follow-up {followup}: no Pending plan event waits on milestone {decision.key}"]
    notes = []
    for event in waiting:
        name = plan_events.describe(event)
        try:
            with session.begin_nested():
                plan_events.set_event_ready(session, event_key(event), who)
            notes.append(f"follow-up {followup}: {name} set Ready")
        except MsPrcsError as exc:
            notes.append(f"follow-up {followup} skipped for {name}: {exc}")
    return notes


def _save_and_complete(session: Session, decision: decide.Decision, who: Who) -> list[str]:
    contract = session.get(Contract, decision.contract_pk)
    assert contract is not None
    contract_key = ContractKey(contract.business_unit, contract.contract_num)
    check_may_edit(session, contract, who.user, "Save & Complete (close the contract)")
    still_open = decide.still_open(session, contract.id, who.at.date())
    if still_open:
        raise RuleViolation(
            f"contract {contract_key}",
            "Save & Complete closes a contract only on its last open approval; still open: "
            + ", ".join(still_open),
        )
    if contract.status == ContractStatus.CLOSED:
        return [f"contract {contract_key} is already Closed"]
    return [
        *change_contract_status(session, contract_key, ContractStatus.CLOSED, who),
        f"contract {contract_key} is Closed (Save & Complete)",
    ]


# --- structure: blocking, the reopen rule, unset actions, optional milestones (ms_prcs.approvals) ------


def before_contract_status(
    session: Session, key: ContractKey, new: ContractStatus, who: Who
) -> ContractStatus:
    """Refuse a status that a milestone blocks, or a reopen the reopen rule forbids; returns the old status."""
    contract = get_contract(session, key)
    blocking.check_contract_status(session, contract, new)
    return contract.status


def after_contract_status(
    session: Session, key: ContractKey, old: ContractStatus, new: ContractStatus, who: Who
) -> list[str]:
    """A reopen (Closed -> Active) reverts the approvals of milestones with the "reopen" unset action."""
    if old == ContractStatus.CLOSED and new == ContractStatus.ACTIVE:
        return unset.revert_approvals(session, get_contract(session, key).id, UnsetAction.REOPEN, who)
    return []


def after_attribute_change(session: Session, key: ContractKey, who: Who) -> list[str]:
    """A detail change: "detail" unset actions revert approvals; attribute triggers add or remove optional
    milestones."""
    notes = unset.revert_approvals(session, get_contract(session, key).id, UnsetAction.DETAIL, who)
    return notes + evaluate_optional(session, key, who)


def after_amount_change(session: Session, key: ContractKey, who: Who) -> list[str]:
    """An amount change (a line amount, a plan and its event amounts): "amount" unset actions revert
    approvals; amount triggers add or remove optional milestones."""
    notes = unset.revert_approvals(session, get_contract(session, key).id, UnsetAction.AMOUNT, who)
    return notes + evaluate_optional(session, key, who)


def change_line_amount(
    session: Session, key: ContractKey, line_num: int, amount: Decimal, who: Who
) -> list[str]:
    """Set a contract line's amount, then what an amount change implies."""
    line = lines.set_line_amount(session, key, line_num, amount)
    return [
        f"line {line.line_num} of contract {key} amount {amount}",
        *after_amount_change(session, key, who),
    ]


def evaluate_optional(
    session: Session, key: ContractKey, who: Who, rules: SqlRules | None = None
) -> list[str]:
    """Add or remove optional milestones by their triggers; an added one is auto-readied as a plan's milestones
    are (DESIGN 5): Ready when every condition is Date, SQL or User Initiated."""
    outcome = optional.evaluate_optional(session, key, who)
    notes = list(outcome.notes)
    for milestone in outcome.added:
        decision = auto_ready(session, milestone, who, rules or SqlRules(), "optional milestone trigger")
        notes.append(f"optional milestone {decision.milestone} is {decision.status}: {decision.reason}")
    notes += approval_events.on_contract_status(session, key, who) if outcome.added else []
    return notes


def workflow_attribute_value(session: Session, key: ContractKey, name: str) -> str | None:
    contract = get_contract(session, key)
    return next((a.value for a in contract.attributes if a.name == name), None)
