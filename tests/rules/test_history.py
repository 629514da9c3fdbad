"""Issue 15: history that sorts (one clock, one precision, the id as the sequence), created_from Template, and
a condition never completed after its milestone."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts import milestones
from contracts.audit import Who
from contracts.models import StatusChange
from ms_prcs.reports import cycle_time
from ms_prcs.reports.scope import ReportScope
from ms_prcs.views import milestone_detail
from tests.approvals.helpers import K1000, ok
from tests.conftest import CliInvoke
from tests.engine.world import RULES, World, date_spec, run


def test_ready_then_run_in_the_same_second_sorts_ready_first(session: Session, engine: sa.Engine) -> None:
    world = World(session)
    contract = world.contract("US001/K1")
    key = world.milestone(contract, "MS1", date_spec(dt.date(2026, 11, 20)), ready=False)
    # readied just after a second boundary, the run stamps the same second (it used to drop the fraction
    # while people's rows kept it, and the run's Completed sorted before the Ready)
    make_ready(session, key, Who("alice", dt.datetime(2026, 11, 23, 22, 0, 0, 300_000)), RULES)
    world.commit()
    run(engine)  # its clock: 2026-11-23 22:00:00

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(StatusChange.new_status, StatusChange.changed_at, StatusChange.changed_by)
            .where(StatusChange.object_type == "Milestone")
            .order_by(StatusChange.id)
        ).all()
    assert [(r.new_status, r.changed_at) for r in rows] == [
        ("Pending", dt.datetime(2026, 11, 1, 9, 0)),
        ("Ready", dt.datetime(2026, 11, 23, 22, 0)),  # to the second, like every writer
        ("Completed", dt.datetime(2026, 11, 23, 22, 0)),
    ]
    shown = milestone_detail(session, key)
    assert [h["new"] for h in shown["history"] if h["object"] == "milestone"] == [
        "Pending",
        "Ready",
        "Completed",
    ]
    report = cycle_time.cycle_time_report(session, ReportScope(as_of=dt.date(2026, 11, 24)))
    ready = report.per_milestone[report.per_milestone["status"] == "Ready"]
    assert list(ready["open"]) == [False]  # counted Completed, not still Ready
    assert list(ready["days"]) == [0.0]


def test_every_writer_cuts_the_actor_the_same_way(session: Session) -> None:
    world = World(session)
    contract = world.contract("US001/K1")
    long_name = "x" * 60
    m = milestones.add_milestone(
        session, contract, "MS1", Who(long_name, dt.datetime(2026, 11, 1, 9, 0, 0, 5))
    )
    session.commit()
    row = session.execute(sa.select(StatusChange).where(StatusChange.object_pk == m.id)).scalar_one()
    assert (row.changed_by, row.changed_at) == ("x" * 40, dt.datetime(2026, 11, 1, 9, 0))


def test_a_milestone_added_from_a_template_says_so(cli: CliInvoke) -> None:
    ok(cli, "bu", "add", "US001")
    ok(cli, "contract", "add", K1000)
    ok(cli, "template", "milestone", "add", "MS1", "--condition", "type=user")
    key = ok(cli, "milestone", "add", K1000, "MS1", "--template").split()[1]
    assert json.loads(ok(cli, "milestone", "show", key, "--json"))["created_from"] == "Template"
    other = ok(cli, "milestone", "add", K1000, "MS1").split()[1]
    assert json.loads(ok(cli, "milestone", "show", other, "--json"))["created_from"] == "Manual"


def test_a_condition_is_never_completed_after_its_milestone(cli: CliInvoke) -> None:
    ok(cli, "bu", "add", "US001")
    ok(cli, "contract", "add", K1000)
    key = ok(cli, "milestone", "add", K1000, "MS1").split()[1]
    ok(cli, "condition", "add", key, "--type", "user")
    ok(cli, "condition", "add", key, "--type", "date", "--date", "2026-01-10")
    ok(cli, "milestone", "ready", key)
    ok(cli, "condition", "complete", key, "1")  # marked today
    ok(cli, "run", "--as-of", "2026-01-15")  # a back-dated run completes the milestone
    shown = json.loads(ok(cli, "milestone", "show", key, "--json"))
    assert shown["completed_on"] == "2026-01-15"
    assert [c["completed_on"] for c in shown["conditions"]] == ["2026-01-15", "2026-01-15"]
