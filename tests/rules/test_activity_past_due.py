"""Issue 15: Activity by Milestone counts Past Due by the approval view's rule (ready-by, complete-by) as well
as the estimated completion date, each reason apart in the JSON."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine

from tests.approvals.helpers import approval_milestone, ok, set_workflow
from tests.conftest import CliInvoke


def test_activity_counts_past_due_like_the_approval_view(world: CliInvoke, engine: Engine) -> None:
    late_ready = approval_milestone(world, "MS100", "--role", "FIN")
    late_complete = approval_milestone(world, "MS200", "--role", "FIN")
    set_workflow(engine, late_ready, ready_by_date=dt.date(2026, 2, 1))
    set_workflow(engine, late_complete, complete_by_date=dt.date(2026, 2, 10))
    ok(world, "approval", "submit", late_complete, "1")
    listed = json.loads(ok(world, "approval", "list", "--past-due", "--as-of", "2026-02-15", "--json"))
    assert sorted(r["milestone"] for r in listed) == [late_ready, late_complete]

    report = json.loads(ok(world, "report", "activity", "--as-of", "2026-02-15", "--format", "json"))
    rows = {r["milestone_id"]: r for r in report["tables"]["by_milestone"]}
    reasons = ("past_due", "past_due_estimated", "past_due_ready_by", "past_due_complete_by")
    assert [rows["MS100"][r] for r in reasons] == [1, 0, 1, 0]
    assert [rows["MS200"][r] for r in reasons] == [1, 0, 0, 1]
    # The bottlenecks (and the Impact report) flag Past Due by the same rule, per milestone.
    late = {r["milestone"]: r["past_due"] for r in report["tables"]["bottlenecks"]}
    assert late == {late_ready: True, late_complete: True}
