"""Approval rules on milestone templates (copied to the milestones made from them, by hand or by a plan
template), and the ``load`` file sections: ``approval_rule_templates``, ``approval_rules``,
``milestone_assignments`` and ``contract_teams``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from tests.approvals.helpers import K1000, actions, inbox_texts, milestone_status, ok, refused
from tests.conftest import CliInvoke
from tests.contracts.helpers import dump


def rule_of(cli: CliInvoke, key: str) -> dict[str, Any]:
    data = json.loads(ok(cli, "approval", "show", key, "--json"))
    return dict(data["approvals"][0]["rule"])


def test_template_rules_are_copied_to_new_milestones(world: CliInvoke) -> None:
    ok(
        world,
        "template",
        "milestone",
        "add",
        "MS100",
        "--descr",
        "Finance approval",
        "--condition",
        "type=user,descr=CFO",
    )
    assert ok(
        world,
        "approval",
        "rule",
        "ms100",
        "1",
        "--role",
        "FIN",
        "--note-on-deny",
        "--submit",
        "status=Active",
    ) == (
        "approval rule set on condition 1 of milestone template MS100: approved by role FIN; submitted when the"
        " contract is Active; note required on deny\n"
    )
    ok(world, "milestone", "add", K1000, "MS100", "--template")
    copied = rule_of(world, f"{K1000}/MS100/1")
    assert (copied["roles"], copied["submit"], copied["note_on_deny"]) == (["FIN"], ["status=Active"], True)
    # the copy is the milestone's own: changing the template changes later copies only
    ok(world, "approval", "rule", "MS100", "1", "--user", "dave")
    ok(world, "milestone", "add", K1000, "MS100", "--template")
    assert rule_of(world, f"{K1000}/MS100/1")["roles"] == ["FIN"]
    assert rule_of(world, f"{K1000}/MS100/2")["users"] == ["dave"]
    assert refused(world, "approval", "rule", "MS100", "2", "--role", "FIN") == (
        "condition MS100#2 (milestone template) does not exist"
    )
    assert refused(world, "approval", "rule", "MS404", "1") == "milestone template MS404 does not exist"
    ok(world, "approval", "rule", "MS100", "1", "--remove")
    ok(world, "milestone", "add", K1000, "MS100", "--template")
    assert json.loads(ok(world, "approval", "show", f"{K1000}/MS100/3", "--json"))["approvals"] == []


def test_plan_templates_make_milestones_with_their_approvals(world: CliInvoke, engine: Engine) -> None:
    ok(world, "template", "milestone", "add", "MS100", "--condition", "type=user,descr=CFO")
    ok(world, "approval", "rule", "MS100", "1", "--role", "FIN", "--submit", "status=Active")
    ok(world, "template", "billing", "add", "BP-STD", "--event", "MS100=100%")
    ok(world, "plan", "create", K1000, "1", "--template", "BP-STD")
    key = f"{K1000}/MS100/1"
    assert milestone_status(engine, key) == "Ready"  # auto-readied: User Initiated
    ok(world, "contract", "status", K1000, "active")
    assert actions(engine, key) == [("Submitted", "status", "admin", "")]


DOCUMENT: dict[str, Any] = {
    "business_units": [{"business_unit": "US001"}],
    "roles": [{"role": "FIN"}],
    "users": [{"user": "alice"}, {"user": "bob", "roles": ["FIN"]}, {"user": "dave"}],
    "milestone_templates": [{"milestone_id": "MS100", "conditions": [{"type": "user", "descr": "CFO"}]}],
    "approval_rule_templates": [
        {"milestone_template": "MS100", "seq": 1, "roles": ["FIN"], "submit": ["status=Active"]}
    ],
    "contracts": [
        {
            "contract": "US001/K1000",
            "status": "active",
            "attributes": {"Priority": "High"},
            "milestones": [
                {"milestone_id": "MS100", "template": True, "status": "ready"},
                {
                    "milestone_id": "MS200",
                    "status": "ready",
                    "conditions": [{"type": "user", "descr": "Legal"}],
                },
            ],
        }
    ],
    "approval_rules": [
        {
            "milestone": "US001/K1000/MS200/1",
            "seq": 1,
            "users": ["dave"],
            "team_roles": ["Project Manager"],
            "note_on_approve": True,
            "submit": ["manual", "attr=Priority:High"],
            "on_approve": "notify=assignee",
            "complete_at_once": False,
        }
    ],
    "milestone_assignments": [{"milestone": "US001/K1000/MS200/1", "user": "alice"}],
    "contract_teams": [
        {"contract": "US001/K1000", "members": [{"user": "alice", "role": "Project Manager"}]}
    ],
}


def write(tmp_path: Path, document: Any, name: str = "approvals.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_load_sets_up_approvals_and_submits_what_the_file_calls_for(
    cli: CliInvoke, engine: Engine, tmp_path: Path
) -> None:
    result = json.loads(ok(cli, "--json", "load", str(write(tmp_path, DOCUMENT))))
    counts = result["counts"]
    assert (
        counts["approval rule templates"],
        counts["approval rules"],
        counts["milestone assignments"],
        counts["contract team members"],
        counts["approvals submitted"],
    ) == (1, 1, 1, 1, 2)
    assert actions(engine, "US001/K1000/MS100/1") == [("Submitted", "status", "admin", "")]
    assert actions(engine, "US001/K1000/MS200/1") == [("Submitted", "attribute", "admin", "")]
    assert inbox_texts(engine, "bob") == [
        "Approval requested: condition 1 of US001/K1000/MS100/1 (CFO), submitted (contract is Active)"
    ]
    assert inbox_texts(engine, "alice")[0] == "Assigned: milestone US001/K1000/MS200/1, by admin"
    # alice is a Project Manager on the team; the rule names team role Project Manager and dave
    assert refused(cli, "approval", "approve", "US001/K1000/MS200/1", "1", user="alice") == (
        "approval of condition 1 of milestone US001/K1000/MS200/1: a note is required to approve it (note"
        " required on approve)"
    )
    assert ok(cli, "approval", "approve", "US001/K1000/MS200/1", "1", "--note", "ok", user="alice") == (
        "follow-up notify=assignee: notified alice\n"
        "approval of condition 1 of US001/K1000/MS200/1 approved by alice\n"
    )


def test_a_bad_approval_entry_refuses_the_whole_file(cli: CliInvoke, engine: Engine, tmp_path: Path) -> None:
    document = dict(DOCUMENT)
    document["approval_rules"] = [{"milestone": "US001/K1000/MS200/1", "seq": 1, "submit": ["whenever"]}]
    before = dump(engine)
    path = write(tmp_path, document)
    assert refused(cli, "load", str(path), code=2) == (
        f"{path}: approval_rules[0]: submit mode 'whenever' is not one of manual, status=STATUS, steps,"
        " attr=NAME:VALUE[,VALUE...]"
    )
    document["approval_rules"] = [{"milestone": "US001/K1000/MS200/1", "seq": 1, "approvers": ["dave"]}]
    assert refused(cli, "load", str(write(tmp_path, document)), code=2).endswith(
        "approval_rules[0].approvers: unknown key (known: milestone, seq, roles, team_roles, users, note_on_approve,"
        " note_on_deny, auto_approve, submit, on_approve, on_deny, complete_at_once)"
    )
    document["approval_rules"] = [{"milestone": "US001/K1000/MS100/1", "seq": 1, "roles": ["NOPE"]}]
    assert refused(cli, "load", str(write(tmp_path, document)), code=2) == (
        f"{path}: approval_rules[0]: role NOPE does not exist"
    )
    assert dump(engine) == before
