"""The seed's "Decide who can approve a Milestone": system roles, contract team roles and named users, and
Milestone Assignment, which notifies the assignee (``inbox``)."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from tests.approvals.helpers import (
    K1000,
    MS100,
    actions,
    approval_milestone,
    condition_status,
    inbox_texts,
    ok,
    refused,
)
from tests.conftest import CliInvoke


def test_approvers_by_system_role_team_role_and_name(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(
        world,
        "MS100",
        "--no-complete-at-once",
        "--role",
        "FIN",
        "--team-role",
        "Controller",
        "--user",
        "dave",
    )
    ok(world, "contract", "team", "add", K1000, "erin", "Controller")
    ok(world, "approval", "submit", key, "1", user="erin")
    assert refused(world, "approval", "approve", key, "1", user="carol") == (
        f"approval of condition 1 of milestone {key}: user carol is not allowed:"
        " the approver rule allows role FIN, team role Controller or user dave"
    )
    for approver in ("bob", "dave", "erin"):  # FIN holder, named user, Controller on the team
        assert ok(world, "approval", "approve", key, "1", user=approver) == (
            f"approval of condition 1 of {key} approved by {approver}\n"
        )
        assert condition_status(engine, key) == ("Completed", approver)
        ok(world, "approval", "unapprove", key, "1", user=approver)
    # a team role counts on its own contract only: erin is no Controller of another contract
    ok(world, "contract", "add", "US001/K2000")
    other = approval_milestone(
        world, "MS100", "--no-complete-at-once", "--team-role", "Controller", contract="US001/K2000"
    )
    ok(world, "approval", "submit", other, "1")
    assert refused(world, "approval", "approve", other, "1", user="erin") == (
        f"approval of condition 1 of milestone {other}: user erin is not allowed:"
        " the approver rule allows team role Controller"
    )


def test_a_rule_without_approvers_leaves_it_to_whoever_may_edit_the_contract(
    world: CliInvoke, engine: Engine
) -> None:
    key = approval_milestone(world, "MS100")
    ok(world, "approval", "submit", key, "1", user="carol")
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    assert refused(world, "approval", "approve", key, "1", user="carol") == (
        f"approval of condition 1 of milestone {key}: user carol is not allowed: the approver rule names"
        " nobody, so anyone who may edit the contract approves; only members of the contract's team may edit"
        " it (alice)"
    )
    ok(world, "approval", "approve", key, "1", user="alice")
    assert [a[0] for a in actions(engine, key)] == ["Submitted", "Approved"]


def test_rule_refusals(world: CliInvoke) -> None:
    ok(world, "milestone", "add", K1000, "MS100")
    ok(world, "condition", "add", MS100, "--type", "date", "--date", "2026-02-01")
    assert refused(world, "approval", "rule", MS100, "1", "--role", "FIN") == (
        f"condition 1 of milestone {MS100}: only a User Initiated condition can be an approval, this is Date"
    )
    ok(world, "condition", "add", MS100, "--type", "user")
    assert refused(world, "approval", "rule", MS100, "2", "--role", "NOPE") == "role NOPE does not exist"
    assert refused(world, "approval", "rule", MS100, "2", "--user", "zed") == "user zed does not exist"
    assert refused(world, "approval", "rule", MS100, "3") == f"condition {MS100}#3 does not exist"
    assert refused(world, "approval", "rule", MS100, "2", "--submit", "later", code=2) == (
        "submit mode 'later' is not one of manual, status=STATUS, steps, attr=NAME:VALUE[,VALUE...]"
    )
    assert refused(world, "approval", "rule", MS100, "2", "--submit", "status=Open", code=2) == (
        "submit mode 'status=Open': 'Open' is not a contract status (Pending, Active, Closed)"
    )
    assert refused(world, "approval", "rule", MS100, "2", "--on-approve", "plan", code=2) == (
        "--on-approve 'plan' is not one of event_ready, contract_status=STATUS, notify=USER, notify=assignee"
    )
    assert (
        refused(world, "approval", "rule", MS100, "2", "--on-deny", "notify=zed") == "user zed does not exist"
    )
    ok(world, "approval", "rule", MS100, "2", "--role", "FIN")
    ok(world, "condition", "update", MS100, "1", "--type", "date", "--date", "2026-02-02")
    ok(world, "milestone", "ready", MS100)
    assert refused(world, "approval", "rule", MS100, "2", "--role", "LEGAL") == (
        f"condition 2 of milestone {MS100}: approval rules can be changed only while the milestone is Pending;"
        " it is Ready"
    )
    assert refused(world, "approval", "submit", MS100, "1") == (
        f"condition 1 of milestone {MS100}: is not an approval (it has no approval rule)"
    )


def test_plain_mark_complete_cannot_bypass_the_approvers(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "approval", "submit", key, "1")
    assert refused(world, "condition", "complete", key, "1", user="carol") == (
        f"condition 1 of milestone {key}: is an approval: only an eligible approver may approve (or unapprove)"
        " it, with `approval`"
    )
    ok(world, "approval", "approve", key, "1", user="bob")
    assert refused(world, "condition", "undo", key, "1", user="bob").startswith(
        f"condition 1 of milestone {key}: is an approval"
    )
    assert condition_status(engine, key) == ("Completed", "bob")


def test_assignment_notifies_and_the_inbox_lists_what_waits(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", descr="Finance approval")
    assert ok(world, "milestone", "assign", key, "alice") == f"milestone {key} assigned to alice (notified)\n"
    assert inbox_texts(engine, "alice") == [f"Assigned: milestone {key} (Finance approval), by admin"]
    # submission asks the approvers and tells the assignee
    assert ok(world, "approval", "submit", key, "1", user="carol") == (
        f"approval of condition 1 of {key} submitted (by carol); notified alice, bob\n"
    )
    request = f"Approval requested: condition 1 of {key} (Sign-off), submitted (by carol)"
    assert inbox_texts(engine, "bob") == [request]
    listing = ok(world, "inbox", "--user", "bob")
    assert listing.splitlines()[0].split() == ["id", "created_at", "milestone", "text"]
    assert key in listing and request in listing
    # the approver's own inbox (default: the acting user)
    assert json.loads(ok(world, "inbox", "--json", user="bob"))[0]["text"] == request
    # deciding closes every request about the approval; the assignment stays until dismissed
    ok(world, "approval", "approve", key, "1", user="bob")
    assert ok(world, "inbox", "--user", "bob") == "(none)\n"
    assert inbox_texts(engine, "alice") == [f"Assigned: milestone {key} (Finance approval), by admin"]
    assert inbox_texts(engine, "alice", done=True) == [request]
    everything = json.loads(ok(world, "inbox", "--user", "alice", "--all", "--json"))
    assert [(i["text"], i["done"]) for i in everything] == [
        (f"Assigned: milestone {key} (Finance approval), by admin", False),
        (request, True),
    ]
    first = str(everything[0]["id"])
    assert refused(world, "inbox", "--user", "alice", "--dismiss", first, user="bob") == (
        "inbox of alice: user bob is not allowed: only its owner may dismiss its items"
    )
    assert ok(world, "inbox", "--dismiss", first, user="alice") == "(none)\n"
    assert (
        refused(world, "inbox", "--dismiss", first, user="bob") == f"inbox item {first} of bob does not exist"
    )


def test_assignment_refusals(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    assert refused(world, "milestone", "assign", key, "zed") == "user zed does not exist"
    ok(world, "milestone", "assign", key, "alice")
    assert (
        refused(world, "milestone", "assign", key, "alice")
        == f"assignment of milestone {key} to alice already exists"
    )
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    assert refused(world, "milestone", "assign", key, "bob", user="carol") == (
        f"contract {K1000}: user carol is not allowed: assign milestone {key}: only members of the contract's"
        " team may edit it (alice)"
    )
    ok(world, "milestone", "assign", key, "bob", user="alice")
    assert json.loads(ok(world, "approval", "show", key, "--json"))["assigned"] == ["alice", "bob"]


def test_contract_team(world: CliInvoke) -> None:
    ok(world, "contract", "team", "add", K1000, "alice", "Project Manager")
    assert refused(world, "contract", "team", "add", K1000, "bob", "Controller", user="carol") == (
        f"contract {K1000}: user carol is not allowed: change the contract team: only members of the"
        " contract's team may edit it (alice)"
    )
    ok(world, "contract", "team", "add", K1000, "bob", "Controller", user="alice")
    assert refused(world, "contract", "team", "add", K1000, "bob", "Controller", user="alice") == (
        f"team member bob (Controller) of contract {K1000} already exists"
    )
    assert json.loads(ok(world, "contract", "team", "list", K1000, "--json")) == [
        {"user": "alice", "role": "Project Manager"},
        {"user": "bob", "role": "Controller"},
    ]
    ok(world, "contract", "team", "remove", K1000, "bob", "Controller", user="bob")
    assert ok(world, "contract", "team", "list", K1000).splitlines()[2].split() == [
        "alice",
        "Project",
        "Manager",
    ]
