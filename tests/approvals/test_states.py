"""The approval view derived from stored facts: every (condition status, latest action) pair, and how a
milestone's approvals add up under ALL and ONE."""

from __future__ import annotations

import pytest

from ms_prcs.approvals.states import Action, ApprovalState, condition_state, milestone_state

A, R, N, D = ApprovalState.APPROVED, ApprovalState.READY, ApprovalState.NOT_READY, ApprovalState.NOT_APPROVED


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (None, N),
        (Action.SUBMITTED, R),
        (Action.WITHDRAWN, N),
        (Action.APPROVED, R),  # Mark Complete undone by other means: still submitted
        (Action.NOT_APPROVED, D),
        (Action.UNAPPROVED, R),
        (Action.REVERTED, R),
    ],
)
def test_ready_condition(latest: Action | None, expected: ApprovalState) -> None:
    assert condition_state("Ready", latest) == expected


@pytest.mark.parametrize("latest", [None, *Action])
def test_completed_condition_is_approved_whatever_its_history(latest: Action | None) -> None:
    assert condition_state("Completed", latest) == A


@pytest.mark.parametrize(
    ("status", "required", "approvals", "expected"),
    [
        ("Ready", "ALL", [], None),
        ("Cancelled", "ALL", [A], None),
        ("Completed", "ALL", [N], A),
        ("Ready", "ALL", [A, A], A),
        ("Ready", "ALL", [A, R], R),
        ("Ready", "ALL", [A, N], N),
        ("Ready", "ALL", [A, D], D),
        ("Ready", "ALL", [R, D], D),
        ("Pending", "ALL", [N], N),
        ("Ready", "ONE", [A, D], A),  # the next run completes it: approved, whatever else was denied
        ("Ready", "ONE", [N, R], R),
        ("Ready", "ONE", [N, N], N),
    ],
)
def test_milestone_view(
    status: str, required: str, approvals: list[ApprovalState], expected: ApprovalState | None
) -> None:
    assert milestone_state(status, required, approvals) == expected
