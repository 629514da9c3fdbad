"""The seed's "Add Deadlines to Milestone submissions and approvals": ready-by and complete-by deadlines,
fixed or days after contract activation, the Past Due flag of the approval view, and the warning every run
writes per Past Due milestone (one INSERT .. SELECT)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from contracts.models import Contract
from tests.approvals.helpers import (
    K1000,
    approval_milestone,
    ok,
    run_messages,
    set_workflow,
)
from tests.conftest import CliInvoke


def past_due(cli: CliInvoke, key: str, as_of: str) -> tuple[bool, str]:
    """(the flag, the words ``approval show`` prints for it)."""
    data = json.loads(ok(cli, "approval", "show", key, "--as-of", as_of, "--json"))
    table = ok(cli, "approval", "show", key, "--as-of", as_of)
    line = next(line for line in table.splitlines() if line.startswith("past_due"))
    return data["past_due"], line.removeprefix("past_due").strip()


def activate(cli: CliInvoke, engine: Engine, on: str) -> None:
    ok(cli, "contract", "status", K1000, "active")
    with Session(engine) as session, session.begin():
        session.execute(update(Contract).values(activated_on=dt.date.fromisoformat(on)))


def test_ready_by_deadline_is_met_by_submitting(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    set_workflow(engine, key, ready_by_date=dt.date(2026, 2, 1))
    assert past_due(world, key, "2026-02-01") == (False, "no")  # the deadline day is still on time
    assert past_due(world, key, "2026-02-02") == (True, "not submitted by 2026-02-01")
    ok(world, "approval", "submit", key, "1")
    assert past_due(world, key, "2026-02-02") == (False, "no")
    ok(world, "approval", "deny", key, "1", user="bob")
    assert past_due(world, key, "2026-02-02") == (False, "no")  # submitted, then decided: not late to submit


def test_complete_by_deadline_in_days_after_activation(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    set_workflow(engine, key, complete_by_days=10)
    assert past_due(world, key, "2030-01-01") == (False, "no")  # no deadline before the contract is activated
    activate(world, engine, "2026-01-20")
    data = json.loads(ok(world, "approval", "show", key, "--as-of", "2026-01-31", "--json"))
    assert (data["complete_by"], data["past_due"]) == ("2026-01-30", True)
    assert past_due(world, key, "2026-01-31") == (True, "not approved by 2026-01-30")
    ok(world, "approval", "submit", key, "1")
    assert past_due(world, key, "2026-01-31") == (True, "not approved by 2026-01-30")
    ok(world, "approval", "approve", key, "1", user="bob")
    assert past_due(world, key, "2026-01-31") == (False, "no")


def test_milestones_without_approvals_have_deadlines_too(world: CliInvoke, engine: Engine) -> None:
    ok(world, "milestone", "add", K1000, "MS900", "--descr", "Delivery")
    key = f"{K1000}/MS900/1"
    ok(world, "condition", "add", key, "--type", "date", "--date", "2026-06-01")
    set_workflow(engine, key, ready_by_date=dt.date(2026, 2, 1), complete_by_date=dt.date(2026, 3, 1))
    data = json.loads(ok(world, "approval", "show", key, "--as-of", "2026-03-02", "--json"))
    assert (data["approval"], data["ready_late"], data["complete_late"]) == (None, True, True)
    ok(world, "milestone", "ready", key)  # Ready is "submitted" for a milestone without approvals
    assert past_due(world, key, "2026-03-02") == (True, "not approved by 2026-03-01")


def test_every_run_warns_once_per_past_due_milestone(world: CliInvoke, engine: Engine) -> None:
    late_submit = approval_milestone(world, "MS100", "--role", "FIN")
    late_both = approval_milestone(world, "MS200", "--role", "FIN")
    on_time = approval_milestone(world, "MS300", "--role", "FIN")
    approved = approval_milestone(world, "MS400", "--role", "FIN")
    set_workflow(engine, late_submit, ready_by_date=dt.date(2026, 2, 1))
    set_workflow(engine, late_both, ready_by_date=dt.date(2026, 2, 1), complete_by_date=dt.date(2026, 2, 10))
    set_workflow(engine, on_time, ready_by_date=dt.date(2026, 3, 1))
    set_workflow(engine, approved, complete_by_date=dt.date(2026, 2, 10))
    ok(world, "approval", "submit", approved, "1")
    ok(world, "approval", "approve", approved, "1", user="bob")
    ok(world, "contract", "add", "US002/K2000")
    other_bu = approval_milestone(world, "MS100", "--role", "FIN", contract="US002/K2000")
    set_workflow(engine, other_bu, ready_by_date=dt.date(2026, 2, 1))

    result = json.loads(ok(world, "run", "--bu", "US001", "--as-of", "2026-02-15", "--json"))
    warnings = [(m["object"], m["text"]) for m in result["messages"] if m["severity"] == "warning"]
    assert warnings == [
        (late_submit, "Past Due: not submitted by its ready-by date 2026-02-01"),
        (
            late_both,
            "Past Due: not submitted by its ready-by date 2026-02-01 and not approved by its complete-by date"
            " 2026-02-10",
        ),
    ]
    assert result["outcome"] == "Warning"
    assert result["message_counts"]["warning"] == 2
    assert [(s, o, t) for s, o, t in run_messages(engine, result["process_instance"]) if s == "warning"] == [
        ("warning", k, t) for k, t in warnings
    ]
    # the summary a person reads counts them and lists them
    text = ok(world, "run", "--bu", "US001", "--as-of", "2026-02-15")
    assert "0 errors, 2 warnings" in text
    assert "Past Due: not submitted by its ready-by date 2026-02-01" in text
    # a dry run reports them and writes nothing
    dry = json.loads(ok(world, "run", "--as-of", "2026-02-15", "--dry-run", "--json"))
    assert [m["object"] for m in dry["messages"] if m["severity"] == "warning"] == [
        late_submit,
        late_both,
        other_bu,
    ]
    # the approved one (condition Completed) is not late even before the run completes it; once completed
    # by the run, nothing about it is Past Due either
    assert approved not in [o for o, _ in warnings]


def test_approval_list_filters_by_view_and_past_due(world: CliInvoke, engine: Engine) -> None:
    late = approval_milestone(world, "MS100", "--role", "FIN")
    submitted = approval_milestone(world, "MS200", "--role", "FIN")
    set_workflow(engine, late, ready_by_date=dt.date(2026, 2, 1))
    ok(world, "approval", "submit", submitted, "1")
    rows = json.loads(ok(world, "approval", "list", K1000, "--as-of", "2026-02-15", "--json"))
    assert [(r["milestone"], r["approval"], r["past_due"]) for r in rows] == [
        (late, "Not Ready for Approval", True),
        (submitted, "Ready for Approval", False),
    ]
    only_late = json.loads(ok(world, "approval", "list", "--past-due", "--as-of", "2026-02-15", "--json"))
    assert [r["milestone"] for r in only_late] == [late]
    ready = json.loads(
        ok(world, "approval", "list", "--bu", "US001", "--state", "ready for approval", "--json")
    )
    assert [r["milestone"] for r in ready] == [submitted]
    table = ok(world, "approval", "list", K1000, "--as-of", "2026-02-15")
    assert table.splitlines()[0].split() == [
        "milestone", "status", "approval", "past_due", "ready_by", "complete_by", "assigned",
    ]  # fmt: skip
    assert "not submitted by 2026-02-01" in table
