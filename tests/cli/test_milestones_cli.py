"""``milestone`` and ``condition`` commands: exit codes 0/1/2, exact messages, tables and --json."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.models import Milestone
from tests.cli_calls import ok, refused
from tests.conftest import CliInvoke

MS1 = "US001/K1000/MS001/1"
SQL = "SELECT 1 FROM contract WHERE business_unit = :business_unit AND contract_num = :contract_num"


@pytest.fixture
def world(cli: CliInvoke) -> CliInvoke:
    for args in (
        ["bu", "add", "US001"],
        ["role", "add", "PM"],
        ["user", "add", "alice", "--role", "PM"],
        ["classification", "add", "ACCEPT", "--role", "PM"],
        ["contract", "add", "US001/K1000"],
        [
            "milestone",
            "add",
            "US001/K1000",
            "MS001",
            "--descr",
            "Design accepted",
            "--est-date",
            "2026-02-15",
        ],
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return cli


def test_milestone_add_numbers_per_id(world: CliInvoke) -> None:
    assert (
        ok(world, "milestone", "add", "US001/K1000", "ms001")
        == "milestone US001/K1000/MS001/2 added (Pending)\n"
    )
    data = json.loads(ok(world, "milestone", "add", "US001/K1000", "MS002", "--required", "one", "--json"))
    assert data == {"milestone": "US001/K1000/MS002/1", "status": "Pending", "conditions": 0}


def test_milestone_add_refusals(world: CliInvoke) -> None:
    assert refused(world, "milestone", "add", "US001/K404", "MS001") == "contract US001/K404 does not exist"
    assert refused(world, "milestone", "add", "US001/K1000", "MS001", "--template") == (
        "milestone template MS001 does not exist"
    )
    assert refused(world, "milestone", "add", "US001/K1000", "MS001", "--classification", "X") == (
        "classification X does not exist"
    )
    assert refused(world, "milestone", "add", "US001/K1000", "MS001", "--est-date", "15/02/2026", code=2) == (
        "--est-date '15/02/2026' is not a date of the form YYYY-MM-DD"
    )
    result = world("milestone", "add", "US001/K1000", "MS001", "--required", "most")
    assert result.exit_code == 2
    assert "Invalid value for '--required'" in result.stderr


def test_conditions_and_ready(world: CliInvoke, session: Session) -> None:
    assert ok(world, "condition", "add", MS1, "--type", "date", "--date", "2026-01-31") == (
        f"condition 1 added to milestone {MS1} (Date: 2026-01-31)\n"
    )
    assert ok(world, "condition", "add", MS1, "--type", "sql", "--sql", SQL) == (
        f"condition 2 added to milestone {MS1} (SQL: {SQL})\n"
    )
    assert ok(world, "condition", "add", MS1, "--type", "user", "--descr", "Sign-off") == (
        f"condition 3 added to milestone {MS1} (User Initiated: Mark Complete)\n"
    )
    assert ok(world, "milestone", "ready", MS1) == f"milestone {MS1} is Ready\n"
    assert refused(world, "condition", "add", MS1, "--type", "user") == (
        f"milestone {MS1}: conditions can be added only while the milestone is Pending; it is Ready"
    )
    assert refused(world, "milestone", "ready", MS1) == (
        f"milestone {MS1}: cannot change status Ready -> Ready: it is already Ready"
    )
    assert ok(world, "condition", "complete", MS1, "3", user="alice") == (
        f"condition 3 of milestone {MS1} marked complete by alice\n"
    )
    assert (
        ok(world, "condition", "undo", MS1, "3")
        == f"Mark Complete of condition 3 of milestone {MS1} undone (Ready)\n"
    )
    assert ok(world, "milestone", "pending", MS1) == f"milestone {MS1} is Pending\n"
    assert ok(world, "milestone", "cancel", MS1) == f"milestone {MS1} is Cancelled\n"
    assert refused(world, "milestone", "pending", MS1) == (
        f"milestone {MS1}: cannot change status Cancelled -> Pending: Cancelled is final"
    )
    milestone = session.scalar(select(Milestone))
    assert milestone is not None and milestone.status == "Cancelled"


def test_edit_checks_list_every_problem(world: CliInvoke) -> None:
    ok(world, "condition", "add", MS1, "--type", "date")
    ok(world, "condition", "add", MS1, "--type", "sql", "--sql", "SELECT 1 FROM secrets")
    ok(world, "condition", "add", MS1, "--type", "milestone")
    assert refused(world, "milestone", "ready", MS1) == (
        f"milestone {MS1}: cannot be set Ready, edit checks failed:\n"
        "  - condition 1 (Date): a Date condition needs a date\n"
        "  - condition 2 (SQL): SQL rule: table secrets is not on the allow-list (allowed: activity_status_history,"
        " business_unit, contract, contract_attribute, contract_line, milestone, milestone_condition, plan,"
        " plan_event, project_activity) (line 1, column 21)\n"
        "  SELECT 1 FROM secrets\n"
        "                ^^^^^^^\n"
        "  - condition 3 (Milestone): a Contracts milestone condition needs a referenced milestone"
    )


def test_cycle_from_the_cli(world: CliInvoke) -> None:
    ok(world, "milestone", "add", "US001/K1000", "MS002")
    ok(world, "condition", "add", MS1, "--type", "milestone", "--ref", "US001/K1000/MS002/1")
    ok(
        world,
        "condition",
        "add",
        "US001/K1000/MS002/1",
        "--type",
        "milestone",
        "--ref",
        MS1,
        "--days-lag",
        "3",
    )
    assert refused(world, "milestone", "ready", MS1) == (
        f"milestone {MS1}: milestone references form a cycle: MS001/1 -> MS002/1 -> MS001/1"
    )


def test_cancel_lists_references(world: CliInvoke) -> None:
    ok(world, "condition", "add", MS1, "--type", "user")
    ok(world, "milestone", "add", "US001/K1000", "MS002")
    ok(world, "condition", "add", "US001/K1000/MS002/1", "--type", "milestone", "--ref", MS1)
    assert refused(world, "milestone", "cancel", MS1) == (
        f"milestone {MS1}: cannot be cancelled while referenced by:\n"
        "  - condition 1 of milestone US001/K1000/MS002/1 (Pending)"
    )
    shown = ok(world, "milestone", "show", MS1)
    assert "\nReferenced by:\n  condition 1 of milestone US001/K1000/MS002/1 (Pending)\n" in shown


def test_condition_input_errors_exit_2(world: CliInvoke) -> None:
    assert refused(world, "condition", "add", MS1, "--type", "date", "--sql", "SELECT 1", code=2) == (
        f"milestone {MS1} condition 1: a Date condition has no sql_text"
    )
    assert refused(world, "condition", "add", MS1, "--type", "milestone", "--ref", "MS002", code=2) == (
        "milestone key 'MS002' is not of the form BU/CONTRACT/MILESTONE_ID/NUM (e.g. US001/K1000/MS001/1)"
    )
    assert refused(
        world, "condition", "add", MS1, "--type", "milestone", "--ref", MS1, "--days-lag", "-1", code=2
    ) == (f"milestone {MS1} condition 1: Days Lag must be 0 or more, got -1")
    assert (
        refused(
            world,
            "condition",
            "add",
            MS1,
            "--type",
            "milestone",
            "--source",
            "contracts",
            "--project",
            "P1",
            code=2,
        )
        == f"milestone {MS1} condition 1: a Contracts milestone condition has no project, activity or status"
    )
    result = world("condition", "add", MS1)
    assert result.exit_code == 2
    assert "Missing option '--type'" in result.stderr
    result = world("condition", "delete", MS1, "one")
    assert result.exit_code == 2
    assert "'one' is not a valid integer" in result.stderr
    assert refused(world, "condition", "delete", MS1, "7") == f"condition {MS1}#7 does not exist"
    assert (
        refused(world, "milestone", "show", "US001/K1000/MS001/9")
        == "milestone US001/K1000/MS001/9 does not exist"
    )


def test_projects_condition_from_options(world: CliInvoke) -> None:
    ok(world, "project", "activity", "add", "P1", "A1")
    assert (
        ok(
            world,
            "condition",
            "add",
            MS1,
            "--type",
            "milestone",
            "--project",
            "P1",
            "--activity",
            "A1",
            "--activity-status",
            "Completed",
            "--days-lag",
            "2",
        )
        == f"condition 1 added to milestone {MS1} (Milestone: activity P1/A1 Completed + 2 days)\n"
    )
    assert (
        refused(world, "condition", "add", MS1, "--type", "milestone", "--project", "P1", "--activity", "A9")
        == "project activity P1/A9 does not exist"
    )
    ok(world, "milestone", "ready", MS1)


def test_update_replaces_the_fields(world: CliInvoke) -> None:
    ok(world, "condition", "add", MS1, "--type", "date", "--date", "2026-01-31", "--descr", "Review")
    assert ok(world, "condition", "update", MS1, "1", "--type", "user") == (
        f"condition 1 of milestone {MS1} updated (Ready)\n"
    )
    data = json.loads(ok(world, "milestone", "show", MS1, "--json"))
    (condition,) = data["conditions"]
    assert (condition["type"], condition["descr"], condition["condition_date"]) == (
        "User Initiated",
        "",
        None,
    )


def test_classification_from_the_cli(world: CliInvoke) -> None:
    ok(world, "milestone", "add", "US001/K1000", "MS002", "--classification", "ACCEPT")
    key = "US001/K1000/MS002/1"
    assert refused(world, "condition", "add", key, "--type", "user", user="bob") == (
        f"milestone {key}: user bob is not allowed: classification ACCEPT needs one of the roles PM"
    )
    ok(world, "condition", "add", key, "--type", "user", user="alice")
    ok(world, "milestone", "ready", key, user="alice")
    assert refused(world, "condition", "complete", key, "1", user="bob") == (
        f"milestone {key}: user bob is not allowed: classification ACCEPT needs one of the roles PM"
    )
    ok(world, "condition", "complete", key, "1", user="alice")


def test_list_and_filters(world: CliInvoke) -> None:
    ok(world, "bu", "add", "EU001")
    ok(world, "contract", "add", "EU001/K2000")
    ok(world, "milestone", "add", "EU001/K2000", "MS001")
    ok(world, "condition", "add", MS1, "--type", "user")
    ok(world, "milestone", "ready", MS1)
    listed = ok(world, "milestone", "list").splitlines()
    assert listed[0].split() == [
        "milestone",
        "descr",
        "status",
        "required",
        "conditions",
        "est_date",
        "completed_on",
    ]
    assert [line.split()[0] for line in listed[2:]] == ["EU001/K2000/MS001/1", MS1]
    assert listed[3].split() == [MS1, "Design", "accepted", "Ready", "ALL", "0/1", "2026-02-15"]
    assert [
        r["milestone"] for r in json.loads(ok(world, "milestone", "list", "--bu", "us001", "--json"))
    ] == [MS1]
    assert [r["milestone"] for r in json.loads(ok(world, "milestone", "list", "EU001/K2000", "--json"))] == [
        "EU001/K2000/MS001/1"
    ]
    assert json.loads(ok(world, "milestone", "list", "--status", "ready", "--json"))[0]["status"] == "Ready"
    assert ok(world, "milestone", "list", "--status", "completed") == "(none)\n"
    assert refused(world, "milestone", "list", "EU001/K404") == "contract EU001/K404 does not exist"


def test_show_prints_fields_conditions_references_and_history(world: CliInvoke) -> None:
    ok(world, "condition", "add", MS1, "--type", "user", "--descr", "Sign-off")
    ok(world, "milestone", "ready", MS1, user="alice")
    ok(world, "condition", "complete", MS1, "1", user="alice")
    shown = ok(world, "milestone", "show", MS1)
    fields, conditions, references, history = shown.split("\n\n")
    assert [line.rstrip() for line in fields.splitlines()] == [
        f"milestone            {MS1}",
        "contract             US001/K1000",
        "milestone_id         MS001",
        "milestone_num        1",
        "descr                Design accepted",
        "status               Ready",
        "required_conditions  ALL",
        "est_completion_date  2026-02-15",
        "completed_on",
        "classification",
        "created_from         Manual",
    ]
    assert conditions.splitlines()[0] == "Conditions:"
    assert conditions.splitlines()[1].split() == [
        "seq",
        "type",
        "status",
        "waits_for",
        "descr",
        "completed_on",
        "completed_by",
    ]
    assert conditions.splitlines()[3].split()[:6] == [
        "1",
        "User",
        "Initiated",
        "Completed",
        "Mark",
        "Complete",
    ]
    assert conditions.splitlines()[3].split()[-1] == "alice"
    assert references == "Referenced by:\n(none)"
    rows = [line.split()[1:] for line in history.splitlines()[3:]]
    assert rows == [
        ["milestone", "Pending", "admin", "added"],
        ["milestone", "Pending", "Ready", "alice", "set", "Ready", "by", "user;", "edit", "checks", "passed"],
        ["condition", "1", "Ready", "Completed", "alice", "Mark", "Complete"],
    ]
    data = json.loads(ok(world, "--json", "milestone", "show", MS1))
    assert set(data) >= {"milestone", "status", "conditions", "referenced_by", "history"}
    assert [h["new"] for h in data["history"]] == ["Pending", "Ready", "Completed"]
