"""``project activity ...`` and ``template milestone ...`` commands."""

from __future__ import annotations

import json

from tests.cli_calls import ok
from tests.conftest import CliInvoke


def test_activity_lifecycle(cli: CliInvoke) -> None:
    assert (
        ok(cli, "project", "activity", "add", "P1", "A1", "--descr", "Build")
        == "project activity P1/A1 added\n"
    )
    assert ok(cli, "project", "activity", "status", "P1", "A1", "Open", "--effdt", "2026-01-02") == (
        "project activity P1/A1 is Open from 2026-01-02\n"
    )
    ok(cli, "project", "activity", "status", "P1", "A1", "Completed", "--effdt", "2026-03-01")
    listed = json.loads(ok(cli, "project", "activity", "list", "--json"))
    assert listed == [
        {"activity": "P1/A1", "descr": "Build", "active": True, "status": "Completed", "effdt": "2026-03-01"}
    ]
    result = cli("project", "activity", "status", "P1", "A1", "Done", "--effdt", "March")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --effdt 'March' is not a date of the form YYYY-MM-DD\n",
    )
    result = cli("project", "activity", "add", "P1", "A1")
    assert (result.exit_code, result.stderr) == (1, "Error: project activity P1/A1 already exists\n")


def test_inactivate_a_referenced_activity_warns_and_succeeds(cli: CliInvoke) -> None:
    ok(cli, "bu", "add", "US001")
    ok(cli, "contract", "add", "US001/K1000")
    ok(cli, "project", "activity", "add", "P1", "A1")
    ok(cli, "milestone", "add", "US001/K1000", "MS001")
    ok(
        cli,
        "condition",
        "add",
        "US001/K1000/MS001/1",
        "--type",
        "milestone",
        "--project",
        "P1",
        "--activity",
        "A1",
        "--activity-status",
        "Completed",
    )
    result = cli("project", "activity", "inactivate", "P1", "A1")
    assert result.exit_code == 0
    assert result.stdout == "project activity P1/A1 inactivated\n"
    assert result.stderr == "Warning: project activity P1/A1 is referenced by contract US001/K1000\n"
    shown = ok(cli, "project", "activity", "show", "P1", "A1")
    assert "Referenced by contracts:\n  US001/K1000\n" in shown
    result = cli("milestone", "ready", "US001/K1000/MS001/1")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: milestone US001/K1000/MS001/1: cannot be set Ready, edit checks failed:\n"
        "  - condition 1 (Milestone): project activity P1/A1 is inactive\n",
    )


def test_milestone_templates(cli: CliInvoke) -> None:
    assert (
        ok(
            cli,
            "template",
            "milestone",
            "add",
            "KICKOFF",
            "--descr",
            "Kick-off",
            "--condition",
            "type=date,date=2026-01-15,descr=Meeting",
        )
        == "milestone template KICKOFF added with 1 condition\n"
    )
    assert (
        ok(
            cli,
            "template",
            "milestone",
            "add",
            "accept",
            "--required",
            "one",
            "--condition",
            "type=user,descr=Certificate",
            "--condition",
            "type=milestone,ref=KICKOFF,days-lag=30",
            "--condition",
            "type=sql,sql=SELECT 1 FROM contract WHERE status IN ('Active','Closed')",
        )
        == "milestone template ACCEPT added with 3 conditions\n"
    )
    shown = json.loads(ok(cli, "template", "milestone", "show", "ACCEPT", "--json"))
    assert [(c["type"], c["waits_for"]) for c in shown["conditions"]] == [
        ("User Initiated", "Mark Complete"),
        ("Milestone", "milestone KICKOFF Completed + 30 days"),
        ("SQL", "SELECT 1 FROM contract WHERE status IN ('Active','Closed')"),
    ]
    assert shown["required_conditions"] == "ONE"
    listed = ok(cli, "template", "milestone", "list").splitlines()
    assert [line.split()[0] for line in listed[2:]] == ["ACCEPT", "KICKOFF"]

    ok(cli, "bu", "add", "US001")
    ok(cli, "contract", "add", "US001/K1000")
    assert ok(cli, "milestone", "add", "US001/K1000", "KICKOFF", "--template") == (
        "milestone US001/K1000/KICKOFF/1 added (Pending, 1 condition copied from the template)\n"
    )
    ok(cli, "milestone", "add", "US001/K1000", "ACCEPT", "--template")
    data = json.loads(ok(cli, "milestone", "show", "US001/K1000/ACCEPT/1", "--json"))
    assert data["conditions"][1]["ref"] == "US001/K1000/KICKOFF/1"
    assert data["required_conditions"] == "ONE"


def test_template_condition_syntax_errors(cli: CliInvoke) -> None:
    for spec, message in [
        ("date=2026-01-01", "type must be one of date, sql, user, milestone"),
        (
            "type=date,when=2026-01-01",
            "unknown key 'when' (known: type, descr, date, ref, days-lag, source,"
            " project, activity, activity-status, sql)",
        ),
        ("type=date,date", "'date' is not of the form KEY=VALUE"),
        ("type=date,date=1/1/26", "date '1/1/26' is not a date of the form YYYY-MM-DD"),
        ("type=milestone,ref=A,days-lag=x", "days-lag 'x' is not a whole number"),
        ("type=user,type=date", "type is given twice"),
    ]:
        result = cli("template", "milestone", "add", "T1", "--condition", spec)
        assert result.exit_code == 2, spec
        assert result.stderr == f"Error: --condition {spec!r}: {message}\n"
    result = cli("template", "milestone", "add", "T1", "--condition", "type=user,date=2026-01-01")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: milestone template T1 condition 1: a User Initiated condition has no condition_date\n",
    )
    assert ok(cli, "template", "milestone", "list") == "(none)\n"
