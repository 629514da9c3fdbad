"""The seed's "Require Notes", "Prompt actions after a Milestone Approval or Denial" and "Enable Save &
Complete": notes enforced and kept, follow-ups run or skipped (with a message) for lack of rights, and
approve-and-close in one transaction. A refused decision changes nothing."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from contracts.models import Contract, PlanEvent
from tests.approvals.helpers import (
    K1000,
    actions,
    approval_milestone,
    condition_status,
    inbox_texts,
    ok,
    refused,
)
from tests.conftest import CliInvoke
from tests.contracts.helpers import dump


def contract_status(engine: Engine, key: str = K1000) -> str:
    bu, num = key.split("/")
    with Session(engine) as session:
        return session.scalars(
            select(Contract.status).where(Contract.business_unit == bu, Contract.contract_num == num)
        ).one()


def event_status(engine: Engine) -> str:
    with Session(engine) as session:
        return session.scalars(select(PlanEvent.status)).one()


def test_notes_required_on_approve_and_on_deny(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--note-on-approve", "--note-on-deny")
    ok(world, "approval", "submit", key, "1")
    assert refused(world, "approval", "deny", key, "1", user="bob") == (
        f"approval of condition 1 of milestone {key}: a note is required to deny it (note required on deny)"
    )
    assert refused(world, "approval", "deny", key, "1", "--note", "  ", user="bob") == (
        f"approval of condition 1 of milestone {key}: a note is required to deny it (note required on deny)"
    )
    ok(world, "approval", "deny", key, "1", "--note", "Budget line missing", user="bob")
    ok(world, "approval", "submit", key, "1")
    assert refused(world, "approval", "approve", key, "1", user="bob") == (
        f"approval of condition 1 of milestone {key}: a note is required to approve it (note required on approve)"
    )
    ok(world, "approval", "approve", key, "1", "--note", "Budget line added", user="bob")
    assert actions(engine, key) == [
        ("Submitted", "manual", "admin", ""),
        ("Not Approved", "", "bob", "Budget line missing"),
        ("Submitted", "manual", "admin", ""),
        ("Approved", "", "bob", "Budget line added"),
    ]
    shown = json.loads(ok(world, "approval", "show", key, "--json"))
    assert [(h["action"], h["by"], h["note"]) for h in shown["history"]] == [
        ("Submitted", "admin", ""),
        ("Not Approved", "bob", "Budget line missing"),
        ("Submitted", "admin", ""),
        ("Approved", "bob", "Budget line added"),
    ]
    assert shown["approvals"][0]["rule"]["note_on_approve"] is True
    table = ok(world, "approval", "show", key)
    assert "approval     Approved" in table
    assert "Budget line added" in table


def test_follow_ups_after_approval_run_in_order(world: CliInvoke, engine: Engine) -> None:
    first = approval_milestone(
        world,
        "MS100",
        "--no-complete-at-once",
        "--role",
        "FIN",
        "--on-approve",
        "contract_status=Active;notify=assignee",
    )
    second = approval_milestone(
        world, "MS200", "--no-complete-at-once", "--role", "FIN", "--on-approve", "event_ready;notify=dave"
    )
    ok(world, "milestone", "assign", first, "alice")
    for key in (first, second):
        ok(world, "approval", "submit", key, "1")
    assert ok(world, "approval", "approve", first, "1", "--note", "fine", user="bob") == (
        f"follow-up contract_status=Active: contract {K1000} is Active\n"
        "follow-up notify=assignee: notified alice\n"
        f"approval of condition 1 of {first} approved by bob\n"
    )
    assert contract_status(engine) == "Active"
    assert inbox_texts(engine, "alice")[-1] == f"Follow-up: condition 1 of {first} approved by bob: fine"
    # event_ready: the Pending events of a Ready plan that wait on the milestone
    ok(world, "plan", "add", K1000, "1", "BP1", "--type", "billing")
    ok(
        world,
        "event",
        "add",
        f"{K1000}/1/BP1",
        "--type",
        "milestone",
        "--milestone",
        second,
        "--percentage",
        "100",
    )
    ok(world, "plan", "ready", f"{K1000}/1/BP1")
    assert ok(world, "approval", "approve", second, "1", user="bob") == (
        f"follow-up event_ready: billing plan event {K1000}/1/BP1/1 set Ready\n"
        "follow-up notify=dave: notified dave\n"
        f"approval of condition 1 of {second} approved by bob\n"
    )
    assert event_status(engine) == "Ready"


def test_follow_ups_are_skipped_with_a_message_when_the_approver_lacks_the_right(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(
        world,
        "MS100",
        "--no-complete-at-once",
        "--role",
        "FIN",
        "--on-approve",
        "contract_status=Active;event_ready;notify=assignee",
    )
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    ok(world, "approval", "submit", key, "1", user="alice")
    assert ok(world, "approval", "approve", key, "1", user="bob") == (
        f"follow-up contract_status=Active skipped: contract {K1000}: user bob is not allowed: set the contract"
        " Active (follow-up): only members of the contract's team may edit it (alice)\n"
        f"follow-up event_ready skipped: contract {K1000}: user bob is not allowed: set plan events Ready"
        " (follow-up): only members of the contract's team may edit it (alice)\n"
        f"follow-up notify=assignee skipped: milestone {key}: is assigned to nobody\n"
        f"approval of condition 1 of {key} approved by bob\n"
    )
    assert contract_status(engine) == "Pending"
    assert condition_status(engine, key) == ("Completed", "bob")  # the approval stands


def test_follow_ups_after_a_denial(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(
        world, "MS100", "--role", "FIN", "--on-deny", "notify=dave;contract_status=Closed"
    )
    ok(world, "approval", "submit", key, "1")
    result = json.loads(ok(world, "approval", "deny", key, "1", "--note", "missing PO", "--json", user="bob"))
    assert result["notes"] == [
        "follow-up notify=dave: notified dave",
        f"follow-up contract_status=Closed skipped: contract {K1000}: cannot change status Pending -> Closed:"
        " from Pending only Active may follow",
    ]
    assert inbox_texts(engine, "dave") == [f"Follow-up: condition 1 of {key} not approved by bob: missing PO"]
    assert contract_status(engine) == "Pending"


def test_save_and_complete_approves_and_closes_the_contract(world: CliInvoke, engine: Engine) -> None:
    first = approval_milestone(world, "MS100", "--no-complete-at-once", "--role", "FIN")
    last = approval_milestone(world, "MS200", "--no-complete-at-once", "--role", "FIN")
    ok(world, "contract", "status", K1000, "active")
    for key in (first, last):
        ok(world, "approval", "submit", key, "1")
    before = dump(engine)
    assert refused(world, "approval", "approve", first, "1", "--complete-contract", user="bob") == (
        f"contract {K1000}: Save & Complete closes a contract only on its last open approval; still open:"
        f" {last}#1 (Ready for Approval)"
    )
    assert dump(engine) == before  # not even the approval was kept
    ok(world, "approval", "approve", first, "1", user="bob")
    assert ok(world, "approval", "approve", last, "1", "--complete-contract", user="bob") == (
        f"contract {K1000} is Closed (Save & Complete)\napproval of condition 1 of {last} approved by bob\n"
    )
    assert contract_status(engine) == "Closed"
    assert condition_status(engine, last) == ("Completed", "bob")
    ok(world, "run", "--as-of", "2026-03-01")  # the run completes the approved milestones


def test_save_and_complete_needs_the_right_to_edit_the_contract(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "contract", "status", K1000, "active")
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    ok(world, "approval", "submit", key, "1", user="alice")
    before = dump(engine)
    assert refused(world, "approval", "approve", key, "1", "--complete-contract", user="bob") == (
        f"contract {K1000}: user bob is not allowed: Save & Complete (close the contract): only members of the"
        " contract's team may edit it (alice)"
    )
    assert dump(engine) == before
    ok(world, "contract", "team", "add", K1000, "bob", "Controller", user="alice")
    ok(world, "approval", "approve", key, "1", "--complete-contract", user="bob")
    assert contract_status(engine) == "Closed"


def test_refused_decisions_change_nothing(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--note-on-deny", "--submit", "status=Active")
    ok(world, "contract", "status", K1000, "active")
    before = dump(engine)
    refused(world, "approval", "approve", key, "1", user="carol")
    refused(world, "approval", "deny", key, "1", user="bob")
    refused(world, "approval", "unapprove", key, "1", user="bob")
    refused(world, "approval", "unsubmit", key, "1")
    refused(world, "approval", "submit", key, "1")
    assert dump(engine) == before
