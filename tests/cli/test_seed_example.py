"""The seed's "Milestone Status Example", step by step from the command line (README walkthrough).

"Suppose that you enter a milestone with three milestone conditions and set the milestone to Ready status.
You then realize that you need to change some of the milestone conditions":
1. change the milestone status back to Pending; 2. delete any conditions you do not need;
3. modify the conditions you want to change (a change resets the condition's status);
4. change the milestone status back to Ready.
"""

from __future__ import annotations

import json

from tests.conftest import CliInvoke

KEY = "US001/K1000/MS001/1"
SQL = (
    "SELECT 1 FROM contract WHERE business_unit = :business_unit"
    " AND contract_num = :contract_num AND status = 'Active'"
)


def run(cli: CliInvoke, *args: str, code: int = 0) -> str:
    result = cli(*args)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


def conditions(cli: CliInvoke) -> list[tuple[int, str, str, str]]:
    data = json.loads(run(cli, "milestone", "show", KEY, "--json"))
    return [(c["seq"], c["type"], c["status"], c["descr"]) for c in data["conditions"]]


def status(cli: CliInvoke) -> str:
    return str(json.loads(run(cli, "milestone", "show", KEY, "--json"))["status"])


def test_milestone_status_example(cli: CliInvoke) -> None:
    run(cli, "bu", "add", "US001")
    run(cli, "contract", "add", "US001/K1000", "--customer", "ACME")
    assert run(cli, "milestone", "add", "US001/K1000", "MS001", "--descr", "Design accepted") == (
        f"milestone {KEY} added (Pending)\n"
    )
    run(
        cli,
        "condition",
        "add",
        KEY,
        "--type",
        "date",
        "--date",
        "2026-01-31",
        "--descr",
        "Design review held",
    )
    run(cli, "condition", "add", KEY, "--type", "user", "--descr", "Customer sign-off")
    run(cli, "condition", "add", KEY, "--type", "sql", "--sql", SQL, "--descr", "Contract is active")
    assert run(cli, "milestone", "ready", KEY) == f"milestone {KEY} is Ready\n"
    assert (
        run(cli, "condition", "complete", KEY, "2")
        == f"condition 2 of milestone {KEY} marked complete by admin\n"
    )

    # While Ready, nothing about the conditions can change.
    assert run(cli, "condition", "delete", KEY, "1", code=1) == (
        f"Error: milestone {KEY}: conditions can be deleted only while the milestone is Pending; it is Ready\n"
    )

    # 1. Back to Pending.
    assert run(cli, "milestone", "pending", KEY) == f"milestone {KEY} is Pending\n"
    assert status(cli) == "Pending"
    # 2. Delete the condition that is not needed.
    assert run(cli, "condition", "delete", KEY, "1") == f"condition 1 of milestone {KEY} deleted\n"
    # 3. Modify one: the Completed sign-off is reset to Ready by the change.
    assert conditions(cli) == [
        (2, "User Initiated", "Completed", "Customer sign-off"),
        (3, "SQL", "Ready", "Contract is active"),
    ]
    assert run(
        cli, "condition", "update", KEY, "2", "--type", "user", "--descr", "Customer and PM sign-off"
    ) == (f"condition 2 of milestone {KEY} updated (Ready)\n")
    assert conditions(cli) == [
        (2, "User Initiated", "Ready", "Customer and PM sign-off"),
        (3, "SQL", "Ready", "Contract is active"),
    ]
    # 4. Ready again, through the edit checks.
    assert run(cli, "milestone", "ready", KEY) == f"milestone {KEY} is Ready\n"
    history = json.loads(run(cli, "milestone", "show", KEY, "--json"))["history"]
    assert [(h["object"], h["old"], h["new"], h["reason"]) for h in history] == [
        ("milestone", None, "Pending", "added"),
        ("milestone", "Pending", "Ready", "set Ready by user; edit checks passed"),
        ("condition 2", "Ready", "Completed", "Mark Complete"),
        ("milestone", "Ready", "Pending", "set Pending by user"),
        ("condition 2", "Completed", "Ready", "condition changed"),
        ("milestone", "Pending", "Ready", "set Ready by user; edit checks passed"),
    ]
