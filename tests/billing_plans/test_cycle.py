"""The whole cycle from the command line, on both backends: template -> plan (auto-ready) -> contract Active
-> Mark Complete -> run -> feed read -> ack (In Progress) -> bill (Billed) -> ... -> plan Completed."""

from __future__ import annotations

import json

from tests.cli_calls import ok
from tests.conftest import CliInvoke


def feed_keys(cli: CliInvoke, consumer: str) -> list[tuple[int, str, str]]:
    lines = ok(cli, "feed", "read", "--consumer", consumer).splitlines()
    return [(r["cursor"], r["kind"], r["key"]) for r in map(json.loads, lines)]


def test_template_to_billed_and_plan_completed(cli: CliInvoke) -> None:
    ok(cli, "bu", "add", "US001")
    ok(cli, "contract", "add", "US001/K1000", "--customer", "ACME")
    ok(cli, "contract", "line", "add", "US001/K1000", "1", "--amount", "10000.00")
    ok(
        cli,
        "template",
        "milestone",
        "add",
        "MS-DSN",
        "--descr",
        "Design sign-off",
        "--condition",
        "type=user",
    )
    ok(cli, "template", "milestone", "add", "MS-GOLIVE", "--condition", "type=date,date=2026-03-31")
    ok(cli, "template", "milestone", "add", "MS-ACC", "--condition", "type=milestone,ref=MS-GOLIVE")
    ok(
        cli, "template", "billing", "add", "BP-STD", "--ready-on-activation",
        "--event", "MS-DSN=30%", "--event", "MS-GOLIVE=50%", "--event", "MS-ACC=20%",
    )  # fmt: skip

    created = ok(cli, "--json", "plan", "create", "--template", "BP-STD", "US001/K1000", "1")
    decisions = {m["milestone"]: m["status"] for m in json.loads(created)["milestones"]}
    assert decisions == {
        "US001/K1000/MS-DSN/1": "Ready",
        "US001/K1000/MS-GOLIVE/1": "Ready",
        "US001/K1000/MS-ACC/1": "Pending",
    }
    activated = ok(cli, "contract", "status", "US001/K1000", "active")
    assert "plan US001/K1000/1/BP-STD set Ready on contract activation" in activated
    assert ok(cli, "plan", "ready-on-activation", "US001/K1000") == "(none)\n"  # nothing left to ready
    ok(cli, "milestone", "ready", "US001/K1000/MS-ACC/1")

    # Nothing is eligible before the user marks the sign-off complete.
    ok(cli, "run", "--as-of", "2026-02-01")
    assert feed_keys(cli, "billing") == []
    ok(cli, "condition", "complete", "US001/K1000/MS-DSN/1", "1", user="pm")
    assert json.loads(ok(cli, "--json", "run", "--as-of", "2026-02-01"))["milestones_completed"] == 1
    assert feed_keys(cli, "billing") == [
        (1, "milestone_completed", "US001/K1000/MS-DSN/1"),
        (2, "billing_event_eligible", "US001/K1000/1/BP-STD/1"),
    ]
    assert feed_keys(cli, "billing") == feed_keys(cli, "billing")  # reading changes nothing

    acked = json.loads(ok(cli, "--json", "feed", "ack", "--consumer", "billing", "--through", "2"))
    assert acked["claimed"] == ["US001/K1000/1/BP-STD/1"]
    event = json.loads(ok(cli, "--json", "plan", "show", "US001/K1000/1/BP-STD"))["events"][0]
    assert (event["status"], event["amount"], event["feed_cursor"]) == ("In Progress", "3000.00", 2)
    assert ok(cli, "event", "bill", "US001/K1000/1/BP-STD/1", user="billing") == (
        "billing plan event US001/K1000/1/BP-STD/1 is Billed\n"
    )

    # Go-live's date passes; acceptance follows in the same run (a chain), and both events become eligible.
    ok(cli, "run", "--as-of", "2026-04-01")
    assert feed_keys(cli, "billing") == [
        (3, "milestone_completed", "US001/K1000/MS-GOLIVE/1"),
        (4, "milestone_completed", "US001/K1000/MS-ACC/1"),
        (5, "billing_event_eligible", "US001/K1000/1/BP-STD/2"),
        (6, "billing_event_eligible", "US001/K1000/1/BP-STD/3"),
    ]
    acked = json.loads(ok(cli, "--json", "feed", "ack", "--consumer", "billing", "--through", "6"))
    assert acked["claimed"] == ["US001/K1000/1/BP-STD/2", "US001/K1000/1/BP-STD/3"]
    assert (
        ok(cli, "event", "bill", "US001/K1000/1/BP-STD/2")
        == "billing plan event US001/K1000/1/BP-STD/2 is Billed\n"
    )
    assert ok(cli, "event", "bill", "US001/K1000/1/BP-STD/3") == (
        "billing plan event US001/K1000/1/BP-STD/3 is Billed; plan US001/K1000/1/BP-STD is Completed\n"
    )
    plan = json.loads(ok(cli, "--json", "plan", "show", "US001/K1000/1/BP-STD"))
    assert (plan["status"], plan["not_completed_because"]) == ("Completed", None)
    assert [e["status"] for e in plan["events"]] == ["Billed"] * 3
    assert feed_keys(cli, "billing") == []
    assert len(feed_keys(cli, "revenue")) == 6  # another consumer still has everything to read
