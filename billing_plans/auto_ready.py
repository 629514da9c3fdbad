"""Auto-ready (the seed's "Auto-readying Milestones", DESIGN 5): a milestone created from a billing or
revenue plan template starts Ready when every condition is Date, SQL or User Initiated, and stays Pending
when any is a Milestone condition (what it references needs a person's look first).

Ready by condition type does not mean "skip the edit checks": the checks that protect the run still apply
(at least one condition; SQL text present and passing the SQL rules). The one check waived is the Date
condition's date: the seed creates the milestone Ready and asks the user to assign the date afterwards,
and until then the condition is simply not met (the run reports it). A User Initiated condition waits for
Mark Complete. Every decision, Ready or Pending, is written to StatusChange with its reason, so that
"why is this milestone Pending?" has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from conditions.ready import ready_problems
from conditions.sql_rules import SqlRules
from contracts.audit import ObjectType, Who, record_change
from contracts.models import Milestone
from contracts.status import MILESTONE_TRANSITIONS, Actor, ConditionType, MilestoneStatus, move_error


@dataclass(frozen=True)
class AutoReadyDecision:
    milestone: str
    status: MilestoneStatus
    reason: str


def auto_ready(
    session: Session, milestone: Milestone, who: Who, rules: SqlRules, source: str
) -> AutoReadyDecision:
    """Decide and record the status of ``milestone``, just created (Pending) from ``source`` (e.g.
    ``billing plan template BP-STD``)."""
    conditions = milestone.conditions
    linked = [c.condition_seq for c in conditions if c.condition_type == ConditionType.MILESTONE]
    if linked:
        return _stay_pending(
            session,
            milestone,
            who,
            f"auto-ready ({source}): stays Pending, {_are(linked, 'a Milestone condition')};"
            " set it Ready once what it references is in place",
        )
    dateless = [
        c.condition_seq
        for c in conditions
        if c.condition_type == ConditionType.DATE and c.condition_date is None
    ]
    # ready_problems prefixes each condition's problems with "condition N (Type): "; the only problem a
    # Date condition can have is its missing date, which the seed's auto-ready rule lets through.
    waived = tuple(f"condition {seq} ({ConditionType.DATE}): " for seq in dateless)
    problems = [p for p in ready_problems(session, milestone, rules) if not p.startswith(waived)]
    if problems:
        return _stay_pending(
            session,
            milestone,
            who,
            f"auto-ready ({source}): stays Pending, edit checks failed: " + "; ".join(problems),
        )
    problem = move_error(MILESTONE_TRANSITIONS, milestone.status, MilestoneStatus.READY, Actor.USER)
    if problem:  # pragma: no cover - a milestone just created is Pending
        raise AssertionError(f"milestone {milestone.key}: {problem}")
    notes = [f"auto-ready ({source}): every condition is Date, SQL or User Initiated"]
    if dateless:
        notes.append(f"{_are(dateless, 'a Date condition without a date')}: not met until one is set")
    users = [c.condition_seq for c in conditions if c.condition_type == ConditionType.USER]
    if users:
        notes.append(f"{_are(users, 'User Initiated')}: waits for Mark Complete")
    reason = "; ".join(notes)
    milestone.status = MilestoneStatus.READY
    record_change(
        session,
        ObjectType.MILESTONE,
        milestone.id,
        MilestoneStatus.PENDING,
        MilestoneStatus.READY,
        who,
        reason,
    )
    session.flush()
    return AutoReadyDecision(milestone.key, MilestoneStatus.READY, reason)


def _stay_pending(session: Session, milestone: Milestone, who: Who, reason: str) -> AutoReadyDecision:
    """A decision not to move is still a decision: recorded as Pending -> Pending with its reason."""
    record_change(
        session,
        ObjectType.MILESTONE,
        milestone.id,
        MilestoneStatus.PENDING,
        MilestoneStatus.PENDING,
        who,
        reason,
    )
    session.flush()
    return AutoReadyDecision(milestone.key, MilestoneStatus.PENDING, reason)


def _are(seqs: list[int], what: str) -> str:
    """``condition 2 is a Milestone condition`` / ``conditions 1, 3 are each a Milestone condition``."""
    if len(seqs) == 1:
        return f"condition {seqs[0]} is {what}"
    return "conditions " + ", ".join(str(s) for s in seqs) + f" are each {what}"
