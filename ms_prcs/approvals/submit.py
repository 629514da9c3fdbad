"""Submitting approvals: by a person (with undo until someone acts), and by the automatic submit modes.

An approval is submitted (Ready for Approval) when any of its submit modes holds (the seed's Pro Tip):

- **manual**: someone who may edit the contract submits it, and may take it back (unsubmit) until an
  approver acts; after an approval the approver must unapprove first. A denied approval can always be
  resubmitted by hand.
- **status**: the contract is in the given status;
- **steps**: every milestone of the earlier steps is Completed (the seed's "Previous Milestone approval");
- **attribute**: a contract attribute has one of the given values; changed to another value before anyone
  acts, the submission is withdrawn (Not Ready for Approval again); after, it stands.

Every mode waits for the milestone to be Ready (an approval is Mark Complete, which needs it) and for the
earlier steps to be done, unless the milestone may be submitted "any time". The automatic modes are checked
where what they watch can change: the contract's status and attributes (:mod:`ms_prcs.approvals.events`)
and every engine run (which completes earlier steps). :func:`auto_submit` does it for any set of milestones
in a few statements, so a run over a whole business unit pays the same as one contract.

With auto-approve, submission approves: the condition is marked complete at once (``Approved`` via
``auto``) and an approver may unapprove it until the milestone is Completed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.audit import ObjectType, Who, change_row, record_changes
from contracts.errors import RuleViolation
from contracts.keys import MilestoneKey, get_condition
from contracts.models import MilestoneCondition
from contracts.status import ConditionStatus, MilestoneStatus
from ms_prcs.approvals import inbox
from ms_prcs.approvals.config.approval import RuleSpec, get_rule, split_names
from ms_prcs.approvals.rules import approvers, check_may_edit
from ms_prcs.approvals.sql import (
    action_t,
    attribute_t,
    condition_t,
    contract_t,
    latest_action,
    milestone_key,
    milestone_t,
    prerequisites_met,
    rule_t,
    workflow_t,
)
from ms_prcs.approvals.states import NOT_SUBMITTED, Action, ApprovalState, Via, condition_state
from ms_prcs.approvals.steps import earlier
from ms_prcs.approvals.view import MilestoneFilter


@dataclass(frozen=True)
class Submission:
    """One approval submitted: how, whether it approved itself, and who was told."""

    condition_pk: int
    milestone_pk: int
    contract_pk: int
    key: str
    seq: int
    descr: str
    via: Via
    how: str
    rule: RuleSpec
    notified: tuple[str, ...] = ()

    @property
    def auto_approved(self) -> bool:
        return self.rule.auto_approve

    def note(self) -> str:
        verb = "submitted and auto-approved" if self.auto_approved else "submitted"
        told = f"; notified {', '.join(self.notified)}" if self.notified else ""
        return f"approval of condition {self.seq} of {self.key} {verb} ({self.how}){told}"


# --- by a person ------------------------------------------------------------------------------------


def _obj(key: MilestoneKey | str, seq: int) -> str:
    return f"approval of condition {seq} of milestone {key}"


def current_state(session: Session, condition: MilestoneCondition) -> tuple[ApprovalState, Any]:
    """The approval's state and its latest history row (``None`` when it has none)."""
    session.flush()
    last = session.execute(
        sa.select(action_t)
        .where(action_t.c.condition_pk == condition.id)
        .order_by(action_t.c.id.desc())
        .limit(1)
    ).first()
    return condition_state(condition.condition_status, last.action if last else None), last


def submit(session: Session, key: MilestoneKey, seq: int, who: Who) -> Submission:
    """Submit by hand (or resubmit after a denial): the approval becomes Ready for Approval and its approvers
    and the milestone's assignees are notified (or, with auto-approve, it is approved at once)."""
    condition = get_condition(session, key, seq)
    rule = get_rule(session, condition)
    obj = _obj(key, seq)
    state, last = current_state(session, condition)
    if state == ApprovalState.APPROVED:
        raise RuleViolation(obj, "is already Approved")
    if state == ApprovalState.READY:
        raise RuleViolation(obj, f"is already Ready for Approval (submitted {since(last)})")
    if state == ApprovalState.NOT_READY and not rule.submit.manual:
        raise RuleViolation(obj, f"is not submitted by a person; it is submitted {rule.submit.describe()}")
    milestone = condition.milestone
    if milestone.status != MilestoneStatus.READY:
        raise RuleViolation(
            obj, f"can be submitted only while the milestone is Ready; it is {milestone.status}"
        )
    check_may_edit(session, milestone.contract, who.user, f"submit the {obj}")
    waiting = open_earlier(session, milestone.id)
    if waiting:
        raise RuleViolation(
            obj,
            "cannot be submitted before the earlier steps are Completed (unless its milestone may be submitted"
            " any time): " + ", ".join(waiting),
        )
    how = f"resubmitted by {who.user}" if state == ApprovalState.NOT_APPROVED else f"by {who.user}"
    pending = Submission(
        condition.id,
        milestone.id,
        milestone.contract_pk,
        str(key),
        seq,
        condition.descr,
        Via.MANUAL,
        how,
        rule,
    )
    (done,) = record(session.connection(), [pending], who, who.at.date())
    session.expire_all()
    return done


def unsubmit(session: Session, key: MilestoneKey, seq: int, who: Who) -> None:
    """Take back a submission made by hand, until an approver acts on it (the seed's undo icon)."""
    condition = get_condition(session, key, seq)
    rule = get_rule(session, condition)
    obj = _obj(key, seq)
    state, last = current_state(session, condition)
    if state == ApprovalState.APPROVED:
        raise RuleViolation(obj, "is Approved; an approver must unapprove it before it can be unsubmitted")
    if state == ApprovalState.NOT_APPROVED:
        raise RuleViolation(obj, f"was acted on (Not Approved {since(last)}); resubmit it instead")
    if state == ApprovalState.NOT_READY:
        raise RuleViolation(obj, "is not submitted")
    submitted = session.execute(
        sa.select(action_t.c.via)
        .where(action_t.c.condition_pk == condition.id, action_t.c.action == Action.SUBMITTED.value)
        .order_by(action_t.c.id.desc())
        .limit(1)
    ).scalar()
    if submitted != Via.MANUAL:
        raise RuleViolation(
            obj, f"was submitted automatically ({submitted}), not by a person; it cannot be unsubmitted"
        )
    milestone = condition.milestone
    check_may_edit(session, milestone.contract, who.user, f"unsubmit the {obj}")
    holding = automatic_reason(session, condition, rule)
    if holding:
        raise RuleViolation(obj, f"cannot be unsubmitted: it would be submitted again at once ({holding})")
    conn = session.connection()
    write_actions(conn, [(condition.id, Action.WITHDRAWN, Via.MANUAL, "")], who)
    inbox.close_requests(conn, [(milestone.id, seq)])
    session.expire_all()


def open_earlier(session: Session | sa.Connection, milestone_pk: int) -> list[str]:
    """Milestones of earlier steps still Pending or Ready (none when this one may be submitted any time)."""
    m, w, k = milestone_t, workflow_t, contract_t
    me = milestone_t.alias("ms_prcs_me")
    mine = session.execute(
        sa.select(w.c.step, w.c.sub_step, w.c.any_time).where(w.c.milestone_pk == milestone_pk)
    ).first()
    if mine is None or mine.any_time or not mine.step:
        return []
    rows = session.execute(
        sa.select(milestone_key(k, m).label("key"), m.c.status, w.c.step, w.c.sub_step)
        .select_from(m.join(w, w.c.milestone_pk == m.c.id).join(k, k.c.id == m.c.contract_pk))
        .where(
            m.c.contract_pk == sa.select(me.c.contract_pk).where(me.c.id == milestone_pk).scalar_subquery(),
            m.c.id != milestone_pk,
            m.c.status.in_([MilestoneStatus.PENDING.value, MilestoneStatus.READY.value]),
            earlier(w, sa.literal(mine.step), sa.literal(mine.sub_step)),
        )
        .order_by(w.c.step, w.c.sub_step, m.c.milestone_id, m.c.milestone_num)
    )
    return [f"{r.key} (step {r.step}{f'.{r.sub_step}' if r.sub_step else ''}, {r.status})" for r in rows]


def automatic_reason(session: Session, condition: MilestoneCondition, rule: RuleSpec) -> str | None:
    """Why an automatic submit mode would submit this approval now, or ``None``."""
    milestone = condition.milestone
    contract = milestone.contract
    if milestone.status != MilestoneStatus.READY or open_earlier(session, milestone.id):
        return None
    if rule.submit.on_status is not None and contract.status == rule.submit.on_status:
        return f"the contract is {contract.status}"
    if rule.submit.attr_name is not None:
        value = next((a.value for a in contract.attributes if a.name == rule.submit.attr_name), None)
        if value in rule.submit.attr_values:
            return f"attribute {rule.submit.attr_name} is {value}"
    if rule.submit.after_steps:
        return "the earlier steps are Completed"
    return None


def since(last: Any) -> str:
    """``by bob at 2026-01-10 09:30`` (and how, when not by hand): when an approval's latest action happened."""
    if last is None:
        return ""
    via = f" ({last.via})" if last.via and last.via != Via.MANUAL else ""
    return f"by {last.acted_by} at {last.acted_at:%Y-%m-%d %H:%M}{via}"


# --- automatically ---------------------------------------------------------------------------------


def due(conn: sa.Connection, where: MilestoneFilter) -> list[Submission]:
    """Approvals of the selected milestones that an automatic submit mode submits now: not submitted yet (or
    withdrawn), condition Ready, milestone Ready, earlier steps done (or "any time"), and the contract's
    status, an attribute, or the step order calling for it. One statement; the attribute's values are
    compared here (they are a list in one column). Without any approval rule, one probe of the rule table
    and nothing else: SQLite would otherwise walk every condition to find that none has a rule (every
    run does this, a rerun included)."""
    c, r, m, k, w = condition_t, rule_t, milestone_t, contract_t, workflow_t
    if conn.scalar(sa.select(r.c.condition_pk).limit(1)) is None:
        return []
    attr = attribute_t.alias("ms_prcs_submit_attr")
    status_holds = sa.and_(r.c.submit_on_status.is_not(None), k.c.status == r.c.submit_on_status)
    rows = conn.execute(
        sa.select(
            c.c.id.label("condition_pk"),
            c.c.milestone_pk,
            c.c.condition_seq,
            c.c.descr,
            m.c.contract_pk,
            milestone_key(k, m).label("key"),
            k.c.status.label("contract_status"),
            attr.c.value.label("attr_value"),
            *(col for col in r.c if col.name != "condition_pk"),
        )
        .select_from(
            c.join(r, r.c.condition_pk == c.c.id)
            .join(m, m.c.id == c.c.milestone_pk)
            .join(k, k.c.id == m.c.contract_pk)
            .outerjoin(w, w.c.milestone_pk == m.c.id)
            .outerjoin(attr, sa.and_(attr.c.contract_pk == k.c.id, attr.c.name == r.c.submit_attr_name))
        )
        .where(
            c.c.condition_status == ConditionStatus.READY.value,
            m.c.status == MilestoneStatus.READY.value,
            sa.or_(latest_action(c).is_(None), latest_action(c).in_([a for a in NOT_SUBMITTED if a])),
            sa.or_(status_holds, r.c.submit_after_steps.is_(True), attr.c.value.is_not(None)),
            prerequisites_met(m, w),
            where(m),
        )
        .order_by(c.c.milestone_pk, c.c.condition_seq)
    )
    result = []
    for row in rows:
        rule = RuleSpec.from_row(row)
        if rule.submit.on_status is not None and row.contract_status == rule.submit.on_status:
            via, how = Via.STATUS, f"contract is {row.contract_status}"
        elif row.attr_value is not None and row.attr_value in rule.submit.attr_values:
            via, how = Via.ATTRIBUTE, f"attribute {rule.submit.attr_name} is {row.attr_value}"
        elif rule.submit.after_steps:
            via, how = Via.STEPS, "earlier steps Completed"
        else:
            continue
        result.append(
            Submission(
                row.condition_pk,
                row.milestone_pk,
                row.contract_pk,
                row.key,
                row.condition_seq,
                row.descr,
                via,
                how,
                rule,
            )
        )
    return result


def auto_submit(conn: sa.Connection, where: MilestoneFilter, who: Who, on: dt.date) -> list[Submission]:
    """Submit every approval of the selected milestones that an automatic mode calls for (see :func:`due`);
    ``on`` is the completion date of auto-approved conditions (the run's as-of date, or today)."""
    return record(conn, due(conn, where), who, on)


def record(conn: sa.Connection, submissions: Sequence[Submission], who: Who, on: dt.date) -> list[Submission]:
    """Write the submissions: their history rows, auto-approvals (conditions marked complete, with their
    StatusChange rows), requests to the approvers and assignees of the others, and the view's moves.
    A fixed number of statements for any number of submissions."""
    if not submissions:
        return []
    write_actions(conn, [(s.condition_pk, Action.SUBMITTED, s.via, "") for s in submissions], who)
    auto = [s for s in submissions if s.auto_approved]
    if auto:
        _auto_approve(conn, auto, who, on)
    asking = [s for s in submissions if not s.auto_approved]
    people = approvers(conn, [(s.contract_pk, s.rule) for s in asking])
    assigned = inbox.assignees(conn, [s.milestone_pk for s in asking])
    done: dict[int, Submission] = {}
    notices = []
    for s, users in zip(asking, people, strict=True):
        told = tuple(sorted({*users, *assigned.get(s.milestone_pk, ())}))
        text = inbox.request_text(s.seq, s.key, s.descr, f"submitted ({s.how})")
        notices += [inbox.Notice(u, s.milestone_pk, text) for u in told]
        done[s.condition_pk] = replace(s, notified=told)
    inbox.notify(conn, notices, who.at)
    return [done.get(s.condition_pk, s) for s in submissions]


def _auto_approve(conn: sa.Connection, submissions: Sequence[Submission], who: Who, on: dt.date) -> None:
    pks = [s.condition_pk for s in submissions]
    conn.execute(
        condition_t.update()
        .where(condition_t.c.id.in_(pks))
        .values(condition_status=ConditionStatus.COMPLETED.value, completed_on=on, completed_by=who.user[:30])
    )
    record_changes(
        conn,
        [
            change_row(
                ObjectType.CONDITION,
                s.condition_pk,
                ConditionStatus.READY,
                ConditionStatus.COMPLETED,
                who,
                f"auto-approved on submission ({s.how})",
            )
            for s in submissions
        ],
    )
    write_actions(conn, [(pk, Action.APPROVED, Via.AUTO, "") for pk in pks], who)


def write_actions(
    conn: sa.Connection, actions: Sequence[tuple[int, Action, Via | str, str]], who: Who
) -> None:
    """Append history rows (condition_pk, action, via, note), all stamped with ``who``: one statement."""
    if actions:
        conn.execute(
            action_t.insert(),
            [
                {
                    "condition_pk": pk,
                    "action": action.value,
                    "via": str(via),
                    "note": note,
                    "acted_by": who.user[:40],
                    "acted_at": who.at.replace(microsecond=0),  # to the second, as people read it
                }
                for pk, action, via, note in actions
            ],
        )


# --- withdrawal when a watched attribute changes ------------------------------------------------------


def withdraw_for_attribute(conn: sa.Connection, contract_pk: int, name: str, who: Who) -> list[str]:
    """Withdraw the approvals the attribute ``name`` submitted, on the contract, that nobody has acted on and
    whose value no longer matches (the seed: "changed back to Not Ready for Approval"). Acted-on ones stand."""
    c, r, m, k = condition_t, rule_t, milestone_t, contract_t
    attr = attribute_t.alias("ms_prcs_withdraw_attr")
    latest = action_t.alias("ms_prcs_withdraw_latest")
    newest = sa.select(sa.func.max(action_t.c.id)).where(action_t.c.condition_pk == c.c.id).scalar_subquery()
    rows = conn.execute(
        sa.select(
            c.c.id,
            c.c.milestone_pk,
            c.c.condition_seq,
            milestone_key(k, m).label("key"),
            r.c.submit_attr_values,
            attr.c.value,
        )
        .select_from(
            c.join(r, r.c.condition_pk == c.c.id)
            .join(m, m.c.id == c.c.milestone_pk)
            .join(k, k.c.id == m.c.contract_pk)
            .join(latest, latest.c.id == newest)
            .outerjoin(attr, sa.and_(attr.c.contract_pk == k.c.id, attr.c.name == r.c.submit_attr_name))
        )
        .where(
            m.c.contract_pk == contract_pk,
            r.c.submit_attr_name == name,
            c.c.condition_status == ConditionStatus.READY.value,
            latest.c.action == Action.SUBMITTED.value,
            latest.c.via == Via.ATTRIBUTE.value,
        )
        .order_by(c.c.milestone_pk, c.c.condition_seq)
    ).all()
    gone = [row for row in rows if row.value not in split_names(row.submit_attr_values or "")]
    if not gone:
        return []
    write_actions(conn, [(row.id, Action.WITHDRAWN, Via.ATTRIBUTE, "") for row in gone], who)
    inbox.close_requests(conn, [(row.milestone_pk, row.condition_seq) for row in gone])
    return [
        f"approval of condition {row.condition_seq} of {row.key} withdrawn (attribute {name} is now"
        f" {row.value if row.value is not None else 'unset'})"
        for row in gone
    ]
