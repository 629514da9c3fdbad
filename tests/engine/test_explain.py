"""Why a milestone is not complete: per condition, met or not as of a date, with the reason in words."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from conditions.explain import explain_milestone
from contracts.keys import MilestoneKey
from contracts.status import RequiredConditions
from tests.conftest import CliInvoke
from tests.engine.test_sql_conditions import SLOW
from tests.engine.world import (
    AS_OF,
    RULES,
    World,
    date_spec,
    day,
    project_spec,
    ref_spec,
    run,
    sql_spec,
    user_spec,
)


def explain(world: World, key: MilestoneKey, as_of: dt.date = AS_OF, timeout_s: float = 5.0) -> list[str]:
    e = explain_milestone(world.session, world.row(key), as_of, rules=RULES, timeout_s=timeout_s)
    return [e.summary, *(c.line() for c in e.conditions)]


def test_each_condition_type_says_why(engine: sa.Engine, world: World) -> None:
    world.activity("PRJ1", "ACT1", [("Complete", day(-3))])
    k = world.contract("US001/K1000")
    head = world.milestone(k, "MS001", date_spec(day(38)))
    done = world.milestone(k, "MS002", date_spec(day(0)))
    ms = world.milestone(
        k,
        "MS003",
        date_spec(day(38)),
        ref_spec(head),
        ref_spec(done, days_lag=10),
        user_spec(),
        project_spec("PRJ1", "ACT1", "Complete", days_lag=2),
        sql_spec("SELECT 1 FROM contract WHERE status = 'Closed'"),
    )
    world.commit()
    run(engine)

    assert explain(world, ms) == [
        "waiting for 5 of 6 conditions (ALL)",
        "condition 1 (Date): not met: Date 2026-12-31 is after as-of 2026-11-23",
        "condition 2 (Milestone): not met: waiting for US001/K1000/MS001/1 (Ready)",
        "condition 3 (Milestone): not met: US001/K1000/MS002/1 Completed on 2026-11-23;"
        " Days Lag 10: met on 2026-12-03, after as-of 2026-11-23",
        "condition 4 (User Initiated): not met: not marked complete",
        "condition 5 (Milestone): met: Completed on 2026-11-23",
        "condition 6 (SQL): not met: the SQL returns no row as of 2026-11-23",
    ]
    later = explain(world, ms, as_of=day(10))
    assert later[3] == (
        "condition 3 (Milestone): met: US001/K1000/MS002/1 Completed on 2026-11-23; Days Lag 10: met on 2026-12-03"
    )


def test_projects_condition_before_it_is_met(world: World) -> None:
    world.activity("PRJ1", "ACT1", [("Complete", day(-1))])
    k = world.contract("US001/K1000")
    waiting = world.milestone(k, "MS001", project_spec("PRJ1", "ACT1", "Closed"))
    lagging = world.milestone(k, "MS002", project_spec("PRJ1", "ACT1", "Complete", days_lag=5))
    world.commit()

    assert explain(world, waiting)[1] == (
        "condition 1 (Milestone): not met: waiting for project activity PRJ1/ACT1 to reach Closed"
    )
    assert explain(world, lagging)[1] == (
        "condition 1 (Milestone): not met: project activity PRJ1/ACT1 first reached Complete on 2026-11-22;"
        " Days Lag 5: met on 2026-11-27, after as-of 2026-11-23"
    )


def test_summary_for_each_milestone_status(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1000")
    one = world.milestone(k, "MS001", date_spec(day(5)), user_spec(), required=RequiredConditions.ONE)
    due = world.milestone(k, "MS002", date_spec(day(0)))
    pending = world.milestone(k, "MS003", date_spec(day(0)), ready=False)
    world.mark(one, 2)
    world.commit()

    assert explain(world, one) == [
        "condition 2 is met (ONE): a run as of 2026-11-23 completes it",
        "condition 1 (Date): not met: Date 2026-11-28 is after as-of 2026-11-23",
        "condition 2 (User Initiated): met: marked complete by tester on 2026-11-01",
    ]
    assert explain(world, due)[0] == "all 1 conditions are met (ALL): a run as of 2026-11-23 completes it"
    assert explain(world, pending)[0] == (
        "it is Pending: runs ignore it until it is set Ready; all 1 conditions are met (ALL)"
    )
    run(engine)
    assert explain(world, due)[0] == "it is Completed (on 2026-11-23 by run 1)"


def test_sql_condition_that_times_out(world: World) -> None:
    k = world.contract("US001/K1000")
    ms = world.milestone(k, "MS001", sql_spec(SLOW))
    world.commit()

    assert (
        explain(world, ms, timeout_s=0.2)[1]
        == "condition 1 (SQL): not met: the SQL fails: timed out after 0.2s"
    )


def test_milestone_show_explains_as_of_a_date(cli: CliInvoke, world: World) -> None:
    k = world.contract("US001/K1000")
    head = world.milestone(k, "MS001", date_spec(day(38)))
    world.milestone(k, "MS002", ref_spec(head), user_spec())
    world.commit()

    shown = cli("milestone", "show", "US001/K1000/MS002/1", "--as-of", "2026-11-23")

    assert shown.exit_code == 0, shown.output
    assert (
        "Why not complete, as of 2026-11-23: waiting for 2 of 2 conditions (ALL)\n"
        "  condition 1 (Milestone): not met: waiting for US001/K1000/MS001/1 (Ready)\n"
        "  condition 2 (User Initiated): not met: not marked complete\n"
        "\nReferenced by:\n"
    ) in shown.stdout
    data = json.loads(
        cli("milestone", "show", "US001/K1000/MS001/1", "--as-of", "2026-12-31", "--json").stdout
    )
    assert data["why_not_complete"] == {
        "as_of": "2026-12-31",
        "status": "Ready",
        "complete": True,
        "summary": "all 1 conditions are met (ALL): a run as of 2026-12-31 completes it",
        "conditions": [
            {
                "seq": 1,
                "type": "Date",
                "status": "Ready",
                "met": True,
                "reason": "Date 2026-12-31 is on or before as-of 2026-12-31",
            }
        ],
    }
