"""One run as a whole: dry run, rerun, the run log, the scope of the run control, the feed."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.errors import NotFound
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import FeedEntry, MilestoneCondition, ProcessMessage, ProcessRun, StatusChange
from ms_prcs.engine import RunControl, process
from tests.engine.world import AS_OF, World, date_spec, day, ref_spec, run, settings, snapshot, user_spec


def _three_units(world: World) -> dict[str, MilestoneKey]:
    keys = {}
    for bu in ("US001", "US002", "EU001"):
        k = world.contract(f"{bu}/K1")
        keys[bu] = world.milestone(k, "MS001", date_spec(day(0)))
        keys[f"{bu}-later"] = world.milestone(k, "MS002", date_spec(day(10)))
    world.commit()
    return keys


def test_dry_run_reports_what_would_complete_and_writes_nothing(
    engine: sa.Engine, world: World, session: Session
) -> None:
    keys = _three_units(world)
    k = ContractKey.parse("US001/K1")
    head = world.milestone(k, "MS003", date_spec(day(5)))
    world.milestone(k, "MS004", ref_spec(head))
    world.commit()
    before = snapshot(session)

    result = run(engine, as_of=day(5), dry_run=True, chunk_size=1)

    assert snapshot(session) == before
    assert result.dry_run
    assert result.process_instance is None
    assert result.completed == (
        "EU001/K1/MS001/1",
        "US001/K1/MS001/1",
        "US001/K1/MS003/1",
        "US001/K1/MS004/1",
        "US002/K1/MS001/1",
    )
    assert result.milestones_completed == 5
    assert result.conditions_completed["Milestone"] == 1
    assert keys  # the what-if for a later date sees more
    later = run(engine, as_of=day(10), dry_run=True)
    assert len(later.completed) == 8
    assert snapshot(session) == before


def test_rerun_with_the_same_as_of_changes_no_row(engine: sa.Engine, world: World, session: Session) -> None:
    _three_units(world)
    first = run(engine)
    assert first.milestones_completed == 3
    before = snapshot(session)

    again = run(engine)

    after = snapshot(session)
    assert again.milestones_completed == 0
    assert sum(again.conditions_completed.values()) == 0
    for table in ("milestone", "milestone_condition", "status_change"):
        assert after[table] == before[table]
    # the rerun itself is logged, and nothing else
    assert len(after["process_run"]) == len(before["process_run"]) + 1


def test_run_log_row_and_messages(engine: sa.Engine, world: World, session: Session) -> None:
    keys = _three_units(world)
    no_date = world.milestone(ContractKey.parse("US001/K1"), "MS009", user_spec())
    world.commit()
    # A Date condition without a date: possible for milestones auto-readied from a plan template; the
    # Ready edit checks would refuse it, so the row is written directly.
    session.execute(
        sa.insert(MilestoneCondition).values(
            milestone_pk=world.row(no_date).id,
            condition_seq=2,
            condition_type="Date",
            condition_date=None,
            days_lag=0,
            condition_status="Ready",
            descr="",
        )
    )
    session.commit()

    result = run(engine, business_units=("US001", "eu001"))

    assert result.milestones_completed == 2
    session.expire_all()
    row = session.get(ProcessRun, result.process_instance)
    assert row is not None
    assert row.outcome == "Warning"
    assert row.as_of == AS_OF
    assert row.ended_at is not None and row.started_at is not None
    assert row.milestones_completed == 2
    assert row.conditions_completed == 2
    assert json.loads(row.run_control) == {
        "as_of": "2026-11-23",
        "business_units": ["EU001", "US001"],
        "contract": None,
        "milestone": None,
        "dry_run": False,
        "trigger": "manual",
        "job_name": None,
    }
    counts = json.loads(row.counts)
    assert counts["conditions_completed"] == {"Date": 2, "SQL": 0, "User Initiated": 0, "Milestone": 0}
    assert counts["milestones_processed"] == 5
    messages = [
        tuple(m)
        for m in session.execute(
            sa.select(ProcessMessage.severity, ProcessMessage.object_key, ProcessMessage.text)
            .where(ProcessMessage.process_instance == result.process_instance)
            .order_by(ProcessMessage.id)
        )
    ]
    assert messages == [
        (
            "warning",
            "US001/K1/MS009/1",
            "cannot complete as things stand: condition 2 (Date) has no date; it cannot be met until one is set",
        ),
        (
            "info",
            "",
            "2 of 5 Ready milestones completed as of 2026-11-23 (business units EU001, US001);"
            " conditions completed: Date 2, SQL 0, User Initiated 0, Milestone 0",
        ),
    ]
    assert world.status(keys["US002"]) == "Ready"


def test_scope_by_contract_and_by_milestone(engine: sa.Engine, world: World) -> None:
    keys = _three_units(world)

    by_contract = run(engine, contract=ContractKey.parse("US002/K1"))
    assert by_contract.milestones_processed == 2
    assert world.status(keys["US002"]) == "Completed"
    assert world.status(keys["US001"]) == "Ready"

    by_milestone = run(engine, milestone=keys["EU001"])
    assert by_milestone.milestones_processed == 1
    assert world.status(keys["EU001"]) == "Completed"
    assert world.status(keys["US001"]) == "Ready"


def test_milestone_scope_that_is_not_ready_says_so(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    pending = world.milestone(k, "MS001", date_spec(day(0)), ready=False)
    world.commit()

    result = run(engine, milestone=pending)

    assert result.milestones_processed == 0
    assert (
        result.messages[0].text
        == "not processed: the milestone is Pending; only Ready milestones are processed"
    )


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"business_units": ("XX999",)}, "business unit XX999 does not exist"),
        ({"contract": ContractKey.parse("US001/NOPE")}, "contract US001/NOPE does not exist"),
        ({"milestone": MilestoneKey.parse("US001/K1/MS404/1")}, "milestone US001/K1/MS404/1 does not exist"),
    ],
)
def test_unknown_keys_in_the_run_control_are_refused_before_anything_is_written(
    engine: sa.Engine, world: World, session: Session, control: dict[str, Any], message: str
) -> None:
    _three_units(world)
    before = snapshot(session)

    with pytest.raises(NotFound, match=message):
        run(engine, **control)

    assert snapshot(session) == before


def test_completions_are_published_to_the_feed_in_the_same_chunk(
    engine: sa.Engine, world: World, session: Session
) -> None:
    keys = _three_units(world)

    result = run(engine, chunk_size=1)

    entries = session.execute(
        sa.select(
            FeedEntry.kind, FeedEntry.business_unit, FeedEntry.milestone_id, FeedEntry.process_instance
        ).order_by(FeedEntry.id)
    ).all()
    assert sorted(entries) == sorted(
        (
            "milestone_completed",
            bu,
            "MS001",
            result.process_instance,
        )
        for bu in ("US001", "US002", "EU001")
    )
    assert result.feed_entries == 3
    assert keys
    run(engine)  # a rerun publishes nothing twice
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedEntry)) == 3


def test_failure_mid_run_marks_the_run_failed(engine: sa.Engine, world: World, session: Session) -> None:
    _three_units(world)

    def boom(processed: int, total: int | None) -> None:
        raise RuntimeError("the lights went out")

    with pytest.raises(RuntimeError):
        process(engine, RunControl(as_of=AS_OF), settings(chunk_size=1), on_progress=boom)

    session.expire_all()
    row = session.scalars(sa.select(ProcessRun)).one()
    assert row.outcome == "Failed"
    assert row.milestones_completed == 1  # the first chunk committed before the progress report
    text = session.scalars(sa.select(ProcessMessage.text).where(ProcessMessage.severity == "error")).one()
    assert text == "run stopped: RuntimeError: the lights went out"
    completed = session.scalar(
        sa.select(sa.func.count()).select_from(StatusChange).where(StatusChange.new_status == "Completed")
    )
    assert completed == 2  # one condition and its milestone
