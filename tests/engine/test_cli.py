"""``ms-prcs run`` and ``ms-prcs runs list|show``: exit codes, exact output, JSON."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from tests.conftest import CliInvoke
from tests.engine.world import World, date_spec, day, ref_spec, sql_spec, user_spec


@pytest.fixture
def world(session: Session) -> World:
    w = World(session)
    k = w.contract("US001/K1000")
    head = w.milestone(k, "MS001", date_spec(day(0)))
    w.milestone(k, "MS002", ref_spec(head))
    w.milestone(k, "MS003", user_spec())
    eu = w.contract("EU001/K2000")
    w.milestone(eu, "MS001", date_spec(day(3)))
    w.commit()
    return w


def test_run_prints_a_summary(cli: CliInvoke, world: World) -> None:
    result = cli("run", "--as-of", "2026-11-23")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Process instance 1: Success as of 2026-11-23 (all business units)\n"
        "  Ready milestones processed  4 (1 chunk, 2 passes)\n"
        "  milestones completed        2\n"
        "  conditions completed        Date 1, SQL 0, User Initiated 0, Milestone 1\n"
        "  feed entries                2\n"
        "  messages                    0 errors, 0 warnings\n"
    )


def test_dry_run_lists_what_would_complete(cli: CliInvoke, world: World) -> None:
    result = cli("run", "--as-of", "2026-11-26", "--dry-run", "--bu", "eu001")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Dry run as of 2026-11-26 (business units EU001): nothing was written\n"
        "  Ready milestones processed  1 (1 chunk, 1 pass)\n"
        "  milestones would complete   1\n"
        "  conditions would complete   Date 1, SQL 0, User Initiated 0, Milestone 0\n"
        "  messages                    0 errors, 0 warnings\n"
        "\n"
        "Milestones that would complete:\n"
        "  EU001/K2000/MS001/1\n"
    )
    assert cli("runs", "list").stdout == "(none)\n"


def test_run_json(cli: CliInvoke, world: World) -> None:
    result = cli("run", "--as-of", "2026-11-23", "--contract", "US001/K1000", "--chunk-size", "1", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["process_instance"] == 1
    assert data["milestones_completed"] == 2
    assert data["chunks"] == 3  # MS002, completed by the first chunk's chain pass, still gets its own chunk
    assert data["conditions_completed"] == {"Date": 1, "SQL": 0, "User Initiated": 0, "Milestone": 1}
    assert data["outcome"] == "Success"


def test_run_with_errors_exits_3(cli: CliInvoke, world: World, session: Session) -> None:
    k = world.contract("US001/K3000")
    world.milestone(k, "MS001", sql_spec("SELECT 1 FROM contract WHERE no_such_column = 1"))
    world.commit()

    result = cli("run", "--as-of", "2026-11-23")

    assert result.exit_code == 3
    assert "Process instance 1: Error as of 2026-11-23" in result.stdout
    assert "  messages                    1 error, 0 warnings\n" in result.stdout
    assert "error     US001/K3000/MS001/1  condition 1 (SQL) stays Ready: " in result.stdout


def test_run_refuses_unknown_business_unit(cli: CliInvoke, world: World) -> None:
    result = cli("run", "--bu", "XX1")

    assert result.exit_code == 1
    assert result.stderr == "Error: business unit XX1 does not exist\n"
    assert cli("runs", "list").stdout == "(none)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "23/11/2026"), "--as-of '23/11/2026' is not a date of the form YYYY-MM-DD"),
        (("--contract", "K1000"), "contract key 'K1000' is not of the form BU/CONTRACT"),
    ],
)
def test_run_usage_errors_exit_2(cli: CliInvoke, world: World, args: tuple[str, ...], message: str) -> None:
    result = cli("run", *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_runs_list_and_show(cli: CliInvoke, world: World, session: Session) -> None:
    k = world.contract("US001/K3000")
    world.milestone(k, "MS001", sql_spec("SELECT 1 FROM contract WHERE status = 'Closed'"))
    world.commit()
    assert cli("run", "--as-of", "2026-11-23", "--bu", "US001").exit_code == 0
    assert cli("run", "--as-of", "2026-11-26").exit_code == 0

    listed = cli("runs", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["process_instance"], r["scope"], r["milestones_completed"]) for r in rows] == [
        (2, "all", 1),
        (1, "US001", 2),
    ]

    shown = cli("runs", "show", "2")
    assert shown.exit_code == 0
    assert "process_instance      2\n" in shown.stdout
    assert "conditions completed by type: Date 1, SQL 0, User Initiated 0, Milestone 0\n" in shown.stdout
    assert "1 of 3 Ready milestones completed as of 2026-11-26 (all business units)" in shown.stdout

    missing = cli("runs", "show", "99")
    assert missing.exit_code == 1
    assert missing.stderr == "Error: process instance 99 does not exist\n"
