"""The work queue (filters, reasons, pages, exports) and mass updates (per item and atomic, dry runs, files
of keys), each checked against what one-at-a-time commands allow."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts import milestones as services
from contracts.keys import ContractKey, MilestoneKey, get_condition, get_milestone
from contracts.models import StatusChange
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.approvals import hooks
from ms_prcs.workqueue import mass, search
from ms_prcs.workqueue.search import QueueFilter
from tests.billing_plans.conftest import AS_OF, K1000, K2000, RULES, who
from tests.conftest import CliInvoke


def add(session: Session, contract: ContractKey, template: str, est: str, ready: bool = True) -> MilestoneKey:
    m = hooks.add_milestone(
        session, contract, template, who(), from_template=True, est_completion_date=dt.date.fromisoformat(est)
    )
    key = MilestoneKey.parse(m.key)
    if ready and template == "MS-NODATE":  # Ready by a plan template's auto-ready, as DESIGN 5 allows
        services.change_status(session, m, MilestoneStatus.READY, who(), "auto-ready")
    elif ready:
        make_ready(session, key, who(), RULES)
    return key


@pytest.fixture
def queue_world(world: Session) -> Session:
    """K1000 (ACME): MS-USER/1 (est 2026-02-10), MS-USER/2 (03-10), MS-NODATE/1 (02-15), MS-DATE/1 (02-20),
    MS-MIX/1 (02-25; Date, SQL, User); K2000 (GLOBEX): MS-USER/1 (02-12); MS-USER/3 Pending on K1000."""
    add(world, K1000, "MS-USER", "2026-02-10")
    add(world, K1000, "MS-USER", "2026-03-10")
    add(world, K1000, "MS-NODATE", "2026-02-15")
    add(world, K1000, "MS-DATE", "2026-02-20")
    add(world, K1000, "MS-MIX", "2026-02-25")
    add(world, K2000, "MS-USER", "2026-02-12")
    add(world, K1000, "MS-USER", "2026-02-11", ready=False)
    world.commit()
    return world


def keys(page: search.QueuePage) -> list[str]:
    return [r["milestone"] for r in page.rows]


def find(session: Session, **fields: object) -> search.QueuePage:
    return search.search(session, QueueFilter("US001", **fields), AS_OF, rules=RULES)  # type: ignore[arg-type]


def test_queue_filters_and_reasons(queue_world: Session) -> None:
    s = queue_world
    assert keys(find(s)) == [
        "US001/K1000/MS-DATE/1",
        "US001/K1000/MS-MIX/1",
        "US001/K1000/MS-NODATE/1",
        "US001/K1000/MS-USER/1",
        "US001/K1000/MS-USER/2",
        "US001/K2000/MS-USER/1",
    ]
    assert keys(find(s, reason="no-date")) == ["US001/K1000/MS-NODATE/1"]
    assert keys(find(s, reason="not-marked-complete", customer="GLOBEX")) == ["US001/K2000/MS-USER/1"]
    assert keys(find(s, reason="met")) == [
        "US001/K1000/MS-DATE/1",
        "US001/K1000/MS-MIX/1",
    ]  # 2026-01-31 reached
    assert keys(find(s, condition_type=ConditionType.SQL)) == ["US001/K1000/MS-MIX/1"]
    assert keys(
        find(s, milestone_id="ms-user", est_from=dt.date(2026, 2, 11), est_to=dt.date(2026, 3, 10))
    ) == [
        "US001/K1000/MS-USER/2",
        "US001/K2000/MS-USER/1",
    ]
    assert keys(find(s, contract_num="K2000")) == ["US001/K2000/MS-USER/1"]
    nodate = find(s, reason="no-date").rows[0]
    assert nodate["reasons"] == ["condition 1: Date condition without a date"]
    assert "condition 1 (Date): not met: no date is set" in nodate["why"]
    mix = find(s, condition_type=ConditionType.SQL).rows[0]
    assert mix["reasons"] == [
        "condition 1: met: the next run completes it",
        "condition 2: SQL condition (decided by the run)",
        "condition 3: not marked complete",
    ]
    page2 = search.search(s, QueueFilter("US001"), AS_OF, page=2, page_size=4, explain=False)
    assert (page2.total, keys(page2), page2.rows[0]["why"]) == (
        6,
        ["US001/K1000/MS-USER/2", "US001/K2000/MS-USER/1"],
        "",
    )
    with pytest.raises(Exception, match="reason 'late' must be one of no-date"):
        QueueFilter("US001", reason="late")


def test_mass_mark_complete_per_item_atomic_and_dry_run(queue_world: Session) -> None:
    s = queue_world
    targets = mass.conditions_of(s, QueueFilter("US001", customer="ACME"), AS_OF, ConditionType.USER)
    assert [str(t) for t in targets] == [
        "US001/K1000/MS-MIX/1#3",
        "US001/K1000/MS-USER/1#1",
        "US001/K1000/MS-USER/2#1",
    ]
    extra = [
        mass.ConditionTarget.parse("US001/K1000/MS-USER/3#1"),  # Pending milestone
        mass.ConditionTarget.parse("US001/K1000/MS-DATE/1#1"),  # not User Initiated
        mass.ConditionTarget.parse("US001/K1000/MS-USER/9#1"),  # no such milestone
    ]
    dry = mass.mark_complete(s, [*targets, *extra], who("ana"), dry_run=True)
    assert (dry.changed, dry.refused, dry.applied) == (3, 3, False)
    assert [i.detail for i in dry.items[3:]] == [
        "condition 1 of milestone US001/K1000/MS-USER/3: Mark Complete needs the milestone Ready, it is Pending",
        "condition 1 of milestone US001/K1000/MS-DATE/1: only User Initiated conditions can be marked complete,"
        " this is Date",
        "milestone US001/K1000/MS-USER/9 does not exist",
    ]
    atomic = mass.mark_complete(s, [*targets, *extra], who("ana"), atomic=True)
    assert atomic.applied is False
    assert get_condition(s, targets[1].milestone, 1).condition_status == ConditionStatus.READY
    done = mass.mark_complete(s, [*targets, *extra], who("ana"))
    s.commit()
    assert (done.changed, done.refused, done.applied) == (3, 3, True)
    condition = get_condition(s, targets[1].milestone, 1)
    assert (condition.condition_status, condition.completed_by, condition.completed_on) == (
        ConditionStatus.COMPLETED,
        "ana",
        who().at.date(),
    )
    audit = s.scalar(
        select(func.count()).where(
            StatusChange.reason == "Mark Complete (mass update)", StatusChange.changed_by == "ana"
        )
    )
    assert audit == 3
    again = mass.mark_complete(s, targets[:1], who("ana"))
    assert again.items[0].detail == "condition 3 of milestone US001/K1000/MS-MIX/1: is already Completed"


def test_mass_dates_and_statuses(queue_world: Session) -> None:
    s = queue_world
    nodate = mass.conditions_of(s, QueueFilter("US001", reason="no-date"), AS_OF, ConditionType.DATE)
    result = mass.set_condition_dates(s, nodate, who(), RULES, date=dt.date(2026, 1, 20))
    s.commit()
    assert [(i.key, i.outcome, i.detail) for i in result.items] == [
        ("US001/K1000/MS-NODATE/1#1", "changed", "date (none) -> 2026-01-20")
    ]
    m = get_milestone(s, MilestoneKey.parse("US001/K1000/MS-NODATE/1"))
    assert (m.status, m.conditions[0].condition_date) == (MilestoneStatus.READY, dt.date(2026, 1, 20))
    moved = mass.set_condition_dates(
        s,
        [*nodate, mass.ConditionTarget.parse("US001/K1000/MS-USER/1#1")],
        who(),
        RULES,
        shift_days=-5,
        atomic=True,
    )
    assert moved.applied is False and moved.items[1].detail.endswith("is User Initiated, not Date")
    s.expire_all()
    assert get_milestone(s, MilestoneKey.parse("US001/K1000/MS-NODATE/1")).conditions[
        0
    ].condition_date == dt.date(2026, 1, 20)

    pending = mass.milestones_of(s, QueueFilter("US001", contract_num="K2000"), AS_OF)
    assert mass.set_milestone_status(s, pending, MilestoneStatus.PENDING, who(), RULES).changed == 1
    back = mass.set_milestone_status(
        s, [*pending, MilestoneKey.parse("US001/K1000/MS-USER/9")], MilestoneStatus.READY, who(), RULES
    )
    s.commit()
    assert [(i.outcome, i.detail) for i in back.items] == [
        ("changed", "Pending -> Ready"),
        ("refused", "milestone US001/K1000/MS-USER/9 does not exist"),
    ]


def test_queue_cli(queue_world: Session, cli: CliInvoke, tmp_path: Path) -> None:
    out = cli(
        "queue",
        "list",
        "--bu",
        "US001",
        "--reason",
        "not-marked-complete",
        "--as-of",
        "2026-02-01",
        "--no-explain",
    )
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "4 Ready milestones; showing 1-4 (page 1)"
    csv_out = cli(
        "queue", "list", "--bu", "US001", "--reason", "no-date", "--format", "csv", "--as-of", "2026-02-01"
    )
    lines = csv_out.output.splitlines()
    assert lines[0] == "milestone,contract_num,customer,milestone_id,descr,est_completion_date,reasons,why"
    assert lines[1].startswith("US001/K1000/MS-NODATE/1,K1000,ACME,MS-NODATE,MS-NODATE milestone,2026-02-15,")
    as_json = json.loads(cli("queue", "list", "--bu", "US001", "--json", "--page-size", "2").output)
    assert (as_json["total"], len(as_json["rows"])) == (6, 2)
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text("# month-end sign-offs\nUS001/K1000/MS-USER/1#1\n\nUS001/K1000/MS-USER/3#1\n")
    dry = cli("queue", "complete", "--file", str(keyfile), "--dry-run")
    assert dry.exit_code == 1
    assert dry.output.splitlines()[-1] == "mark complete: 1 changed, 1 refused (dry run: nothing changed)"
    done = cli("queue", "complete", "--bu", "US001", "--customer", "GLOBEX")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "mark complete: 1 changed, 0 refused (applied)"
    bad = cli("queue", "complete", "--customer", "GLOBEX")
    assert (bad.exit_code, bad.stderr) == (2, "Error: --bu is required (or give --file with keys)\n")
