"""The seed's "Specify the default status of a Milestone" and "Choose how a Milestone is submitted for
approval": Ready for Approval vs Approved (auto-approve), and every submit mode (person, status change,
previous milestones, attribute value), alone and together."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts import admin
from contracts.audit import Who
from contracts.keys import ContractKey
from contracts.status import ContractStatus
from tests.approvals.helpers import (
    K1000,
    actions,
    approval_milestone,
    condition_status,
    inbox_texts,
    milestone_status,
    ok,
    refused,
    set_workflow,
    view_of,
)
from tests.conftest import CliInvoke


def test_default_status_ready_for_approval_needs_an_approver(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    assert view_of(world, key) == "Not Ready for Approval"
    ok(world, "approval", "submit", key, "1")
    assert view_of(world, key) == "Ready for Approval"
    ok(world, "run", "--as-of", "2026-03-01")
    assert milestone_status(engine, key) == "Ready"  # waits for an approver
    ok(world, "approval", "approve", key, "1", user="bob")
    assert view_of(world, key) == "Approved"
    ok(world, "run", "--as-of", "2026-03-01")
    assert milestone_status(engine, key) == "Completed"


def test_default_status_approved_auto_approves_and_an_approver_may_unapprove(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--auto-approve", "--submit", "status=Active")
    assert ok(world, "contract", "status", K1000, "active", user="alice") == (
        f"approval of condition 1 of {key} submitted and auto-approved (contract is Active)\n"
        f"contract {K1000} is Active\n"
    )
    assert view_of(world, key) == "Approved"
    assert condition_status(engine, key) == ("Completed", "alice")
    assert actions(engine, key) == [("Submitted", "status", "alice", ""), ("Approved", "auto", "alice", "")]
    assert inbox_texts(engine, "bob") == []  # nothing waits for anyone
    assert refused(world, "approval", "unapprove", key, "1", user="carol") == (
        f"approval of condition 1 of milestone {key}: user carol is not allowed: the approver rule allows role FIN"
    )
    assert ok(world, "approval", "unapprove", key, "1", user="bob") == (
        f"asked again: bob\napproval of condition 1 of {key} unapproved (Ready for Approval)\n"
    )
    assert view_of(world, key) == "Ready for Approval"
    assert condition_status(engine, key) == ("Ready", None)
    assert inbox_texts(engine, "bob") == [
        f"Approval requested: condition 1 of {key} (Sign-off), unapproved by bob"
    ]
    ok(world, "approval", "approve", key, "1", user="bob")
    ok(world, "run", "--as-of", "2026-03-01")
    assert milestone_status(engine, key) == "Completed"
    assert refused(world, "approval", "unapprove", key, "1", user="bob") == (
        f"condition 1 of milestone {key}: Mark Complete cannot be undone once the milestone is Completed"
    )


def test_submitted_by_a_person_who_may_edit_with_undo_until_acted_on(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(world, "MS100", "--no-complete-at-once", "--role", "FIN")
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    assert refused(world, "approval", "submit", key, "1", user="carol") == (
        f"contract {K1000}: user carol is not allowed: submit the approval of condition 1 of milestone {key}:"
        " only members of the contract's team may edit it (alice)"
    )
    ok(world, "approval", "submit", key, "1", user="alice")
    assert refused(world, "approval", "submit", key, "1", user="alice").startswith(
        f"approval of condition 1 of milestone {key}: is already Ready for Approval (submitted by alice at "
    )
    # undo before anyone acts: back to Not Ready for Approval, the approvers' request is closed
    assert ok(world, "approval", "unsubmit", key, "1", user="alice") == (
        f"approval of condition 1 of {key} unsubmitted (Not Ready for Approval)\n"
    )
    assert view_of(world, key) == "Not Ready for Approval"
    assert inbox_texts(engine, "bob") == []
    assert refused(world, "approval", "unsubmit", key, "1", user="alice") == (
        f"approval of condition 1 of milestone {key}: is not submitted"
    )
    # approved before the undo: it must be unapproved first
    ok(world, "approval", "submit", key, "1", user="alice")
    ok(world, "approval", "approve", key, "1", user="bob")
    assert refused(world, "approval", "unsubmit", key, "1", user="alice") == (
        f"approval of condition 1 of milestone {key}: is Approved; an approver must unapprove it before it can"
        " be unsubmitted"
    )
    ok(world, "approval", "unapprove", key, "1", user="bob")
    ok(world, "approval", "unsubmit", key, "1", user="alice")
    assert [a[0] for a in actions(engine, key)] == [
        "Submitted", "Withdrawn", "Submitted", "Approved", "Unapproved", "Withdrawn",
    ]  # fmt: skip


def test_submission_needs_a_ready_milestone_and_a_manual_mode(world: CliInvoke) -> None:
    pending = approval_milestone(world, "MS100", "--role", "FIN", ready=False)
    assert refused(world, "approval", "submit", pending, "1") == (
        f"approval of condition 1 of milestone {pending}: can be submitted only while the milestone is Ready;"
        " it is Pending"
    )
    automatic = approval_milestone(world, "MS200", "--role", "FIN", "--submit", "status=Active")
    assert refused(world, "approval", "submit", automatic, "1") == (
        f"approval of condition 1 of milestone {automatic}: is not submitted by a person; it is submitted when"
        " the contract is Active"
    )
    assert refused(world, "approval", "approve", automatic, "1", user="bob") == (
        f"approval of condition 1 of milestone {automatic}: is Not Ready for Approval; it must be submitted"
        " first (it is submitted when the contract is Active)"
    )


def test_a_denied_approval_stays_ready_and_is_resubmitted(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--submit", "status=Active")
    ok(world, "contract", "status", K1000, "active")
    ok(world, "approval", "deny", key, "1", "--note", "no PO attached", user="bob")
    assert view_of(world, key) == "Not Approved"
    assert condition_status(engine, key) == ("Ready", None)
    assert milestone_status(engine, key) == "Ready"
    assert refused(world, "approval", "approve", key, "1", user="bob").startswith(
        f"approval of condition 1 of milestone {key}: was Not Approved by bob at "
    )
    assert refused(world, "approval", "unsubmit", key, "1").startswith(
        f"approval of condition 1 of milestone {key}: was acted on (Not Approved by bob at "
    )
    # resubmitted by a person, even where the rule has no manual mode
    assert ok(world, "approval", "submit", key, "1", user="alice") == (
        f"approval of condition 1 of {key} submitted (resubmitted by alice); notified bob\n"
    )
    ok(world, "approval", "approve", key, "1", user="bob")
    assert actions(engine, key) == [
        ("Submitted", "status", "admin", ""),
        ("Not Approved", "", "bob", "no PO attached"),
        ("Submitted", "manual", "alice", ""),
        ("Approved", "", "bob", ""),
    ]


def test_submitted_when_the_contract_reaches_a_status(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--submit", "status=Active")
    late = approval_milestone(world, "MS200", "--role", "FIN", "--submit", "status=Active", ready=False)
    assert ok(world, "contract", "status", K1000, "active") == (
        f"approval of condition 1 of {key} submitted (contract is Active); notified bob\n"
        f"contract {K1000} is Active\n"
    )
    assert actions(engine, key) == [("Submitted", "status", "admin", "")]
    # a milestone set Ready later is submitted as it is readied: its submit mode already holds
    assert ok(world, "milestone", "ready", late) == (
        f"approval of condition 1 of {late} submitted (contract is Active); notified bob\n"
        f"milestone {late} is Ready\n"
    )
    assert view_of(world, late) == "Ready for Approval"
    assert actions(engine, late) == [("Submitted", "status", "admin", "")]
    # leaving the status withdraws nothing (only the attribute mode is withdrawn)
    ok(world, "contract", "status", K1000, "pending")
    assert view_of(world, key) == "Ready for Approval"


def test_a_decision_submits_what_the_modes_call_for_without_waiting_for_a_run(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(
        world, "MS100", "--no-complete-at-once", "--role", "FIN", "--submit", "status=Active"
    )
    # the status changes behind the hooks' back (another program, a SQL script): nothing submits it yet ...
    with Session(engine) as session, session.begin():
        admin.set_contract_status(session, ContractKey.parse(K1000), ContractStatus.ACTIVE, Who.now("etl"))
    assert view_of(world, key) == "Not Ready for Approval"
    # ... until the next decision on the contract, without waiting for a run
    assert ok(world, "approval", "approve", key, "1", user="bob") == (
        f"approval of condition 1 of {key} submitted (contract is Active); notified bob\n"
        f"approval of condition 1 of {key} approved by bob\n"
    )
    assert actions(engine, key) == [("Submitted", "status", "bob", ""), ("Approved", "", "bob", "")]


def test_submitted_when_previous_milestones_are_completed(world: CliInvoke, engine: Engine) -> None:
    first = approval_milestone(world, "MS100", "--no-complete-at-once", "--role", "FIN", ready=False)
    second = approval_milestone(
        world, "MS200", "--no-complete-at-once", "--role", "LEGAL", "--submit", "steps", ready=False
    )
    anytime = approval_milestone(world, "MS300", "--no-complete-at-once", "--role", "LEGAL", ready=False)
    set_workflow(engine, first, step=1)
    set_workflow(engine, second, step=2)
    set_workflow(engine, anytime, step=2, any_time=True)
    for key in (first, second, anytime):
        ok(world, "milestone", "ready", key)
    ok(world, "run", "--as-of", "2026-03-01")
    assert view_of(world, second) == "Not Ready for Approval"
    # a person may not submit a later step early, unless the milestone may be submitted any time
    manual_later = approval_milestone(world, "MS400", "--no-complete-at-once", "--role", "LEGAL")
    set_workflow(engine, manual_later, step=3)
    assert refused(world, "approval", "submit", manual_later, "1") == (
        f"approval of condition 1 of milestone {manual_later}: cannot be submitted before the earlier steps are"
        f" Completed (unless its milestone may be submitted any time): {first} (step 1, Ready), {second} (step 2,"
        f" Ready), {anytime} (step 2, Ready)"
    )
    ok(world, "approval", "submit", anytime, "1")
    ok(world, "approval", "approve", anytime, "1", user="erin")
    # step 1 approved and completed by a run: the same run submits step 2
    ok(world, "approval", "submit", first, "1")
    ok(world, "approval", "approve", first, "1", user="bob")
    result = json.loads(ok(world, "run", "--as-of", "2026-03-01", "--json"))
    assert result["milestones_completed"] == 2
    assert actions(engine, second)[0][:3] == ("Submitted", "steps", "run 2")
    assert view_of(world, second) == "Ready for Approval"
    assert inbox_texts(engine, "erin") == [
        f"Approval requested: condition 1 of {second} (Sign-off), submitted (earlier steps Completed)"
    ]


def test_submitted_by_an_attribute_and_withdrawn_if_it_changes_before_anyone_acts(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--submit", "attr=Priority:High,Urgent")
    assert ok(world, "contract", "attr", "set", K1000, "Priority", "High", user="alice") == (
        f"approval of condition 1 of {key} submitted (attribute Priority is High); notified bob\n"
        f"contract {K1000} attribute Priority = High\n"
    )
    assert view_of(world, key) == "Ready for Approval"
    # another matching value: still submitted, nothing new
    assert ok(world, "contract", "attr", "set", K1000, "Priority", "Urgent") == (
        f"contract {K1000} attribute Priority = Urgent\n"
    )
    # changed before anyone acted: withdrawn, and the approver's request is closed
    assert ok(world, "contract", "attr", "set", K1000, "Priority", "Low") == (
        f"approval of condition 1 of {key} withdrawn (attribute Priority is now Low)\n"
        f"contract {K1000} attribute Priority = Low\n"
    )
    assert view_of(world, key) == "Not Ready for Approval"
    assert inbox_texts(engine, "bob") == []
    # submitted again, acted on, then changed: untouched
    ok(world, "contract", "attr", "set", K1000, "Priority", "Urgent")
    ok(world, "approval", "approve", key, "1", user="bob")
    assert ok(world, "contract", "attr", "set", K1000, "Priority", "Low") == (
        f"contract {K1000} attribute Priority = Low\n"
    )
    assert view_of(world, key) == "Approved"
    assert [(a, v) for a, v, _, _ in actions(engine, key)] == [
        ("Submitted", "attribute"),
        ("Withdrawn", "attribute"),
        ("Submitted", "attribute"),
        ("Approved", ""),
    ]


def test_a_denial_is_acting_on_it_so_an_attribute_change_leaves_it(world: CliInvoke) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--submit", "attr=Priority:High")
    ok(world, "contract", "attr", "set", K1000, "Priority", "High")
    ok(world, "approval", "deny", key, "1", user="bob")
    ok(world, "contract", "attr", "set", K1000, "Priority", "Low")
    assert view_of(world, key) == "Not Approved"


def test_any_of_several_submit_modes_submits(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(
        world, "MS100", "--role", "FIN", "--submit", "manual", "--submit", "status=Active",
        "--submit", "attr=Priority:High",
    )  # fmt: skip
    other = approval_milestone(
        world, "MS200", "--role", "FIN", "--submit", "manual", "--submit", "status=Active"
    )
    ok(world, "contract", "attr", "set", K1000, "Priority", "High")
    assert actions(engine, key)[-1][:2] == ("Submitted", "attribute")
    ok(world, "approval", "submit", other, "1")
    ok(world, "contract", "status", K1000, "active")
    assert [a[:2] for a in actions(engine, other)] == [("Submitted", "manual")]  # already submitted
    # the attribute changes, but the status mode still holds: withdrawn and submitted again at once
    assert ok(world, "contract", "attr", "set", K1000, "Priority", "Low") == (
        f"approval of condition 1 of {key} withdrawn (attribute Priority is now Low)\n"
        f"approval of condition 1 of {key} submitted (contract is Active); notified bob\n"
        f"contract {K1000} attribute Priority = Low\n"
    )
    # a person cannot take back what another mode would submit again at once
    assert refused(world, "approval", "unsubmit", other, "1") == (
        f"approval of condition 1 of milestone {other}: cannot be unsubmitted: it would be submitted again at"
        " once (the contract is Active)"
    )


def test_a_milestone_set_ready_after_its_submit_mode_already_holds_is_submitted_at_once(
    world: CliInvoke, engine: Engine
) -> None:
    ok(world, "contract", "status", K1000, "active")
    key = approval_milestone(world, "MS100", "--role", "FIN", "--submit", "status=Active", ready=False)
    assert view_of(world, key) == "Not Ready for Approval"
    readied = ok(world, "milestone", "ready", key, user="alice")
    assert readied.splitlines()[-1] == f"milestone {key} is Ready"
    assert f"approval of condition 1 of {key} submitted" in readied  # no run needed to submit it
    assert view_of(world, key) == "Ready for Approval"
    assert actions(engine, key) == [("Submitted", "status", "alice", "")]
