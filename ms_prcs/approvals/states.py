"""The approval view as pure data: the states, the actions of the history, and how one derives the other.

Nothing here touches a database, so the derivation can be read (and tested) on its own. The stored facts are a
condition's PeopleSoft status (Completed = approved, by Mark Complete) and its append-only ``approval_action``
history; the view (Not Ready for Approval, Ready for Approval, Approved, Not Approved) is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from contracts.required import satisfied
from contracts.status import ConditionStatus, MilestoneStatus


class ApprovalState(StrEnum):
    NOT_READY = "Not Ready for Approval"
    READY = "Ready for Approval"
    APPROVED = "Approved"
    NOT_APPROVED = "Not Approved"


class Action(StrEnum):
    """One row of an approval's history (``approval_action.action``)."""

    SUBMITTED = "Submitted"
    WITHDRAWN = "Withdrawn"
    APPROVED = "Approved"
    NOT_APPROVED = "Not Approved"
    UNAPPROVED = "Unapproved"
    REVERTED = "Reverted"
    """Written by an unset action: the approval is taken back, the submission stands (Ready for Approval)."""


class Via(StrEnum):
    """How a submission (or an automatic approval) came about (``approval_action.via``)."""

    MANUAL = "manual"
    STATUS = "status"
    STEPS = "steps"
    ATTRIBUTE = "attribute"
    AUTO = "auto"


AWAITING_DECISION = frozenset({Action.SUBMITTED, Action.UNAPPROVED, Action.REVERTED, Action.APPROVED})
"""Latest actions that leave a Ready condition waiting for an approver. ``Approved`` is there because an
approval whose Mark Complete was undone by other means is still submitted."""

NOT_SUBMITTED = frozenset({None, Action.WITHDRAWN})
"""Latest actions (or none) of an approval that has not been submitted: what an automatic submit mode acts on."""


def condition_state(condition_status: str, latest: str | None) -> ApprovalState:
    """The view of one approval from its condition's status and the latest action of its history."""
    if condition_status == ConditionStatus.COMPLETED:
        return ApprovalState.APPROVED
    if latest == Action.NOT_APPROVED:
        return ApprovalState.NOT_APPROVED
    if latest in AWAITING_DECISION:
        return ApprovalState.READY
    return ApprovalState.NOT_READY


def milestone_state(status: str, required: str, approvals: Sequence[ApprovalState]) -> ApprovalState | None:
    """The view of a milestone: ``None`` when it has no approvals (or is Cancelled), Approved once Completed.

    Otherwise Approved when its approvals are approved as its required conditions count them (ALL: every
    one, ONE: any, so the next run completes it whatever else was denied), then Not Approved when one was
    denied (someone must act on it), then Ready for Approval when one waits for an approver.
    """
    if status == MilestoneStatus.CANCELLED or not approvals:
        return None
    if status == MilestoneStatus.COMPLETED:
        return ApprovalState.APPROVED
    if satisfied(required, (s == ApprovalState.APPROVED for s in approvals)):
        return ApprovalState.APPROVED
    if ApprovalState.NOT_APPROVED in approvals:
        return ApprovalState.NOT_APPROVED
    if ApprovalState.READY in approvals:
        return ApprovalState.READY
    return ApprovalState.NOT_READY


SUBMITTED_STATES = frozenset({ApprovalState.READY, ApprovalState.APPROVED, ApprovalState.NOT_APPROVED})
"""Milestone views that meet a ready-by deadline: submitted, whatever was decided since."""
