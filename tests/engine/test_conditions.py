"""Each condition type at its boundary dates, and how ALL and ONE combine them (DESIGN 3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.models import Milestone, StatusChange
from contracts.status import RequiredConditions
from tests.engine.world import (
    AS_OF,
    World,
    date_spec,
    day,
    project_spec,
    ref_spec,
    run,
    user_spec,
)


@pytest.mark.parametrize(("offset", "met"), [(-1, True), (0, True), (1, False)])
def test_date_condition_is_met_on_and_after_its_date(
    engine: sa.Engine, world: World, offset: int, met: bool
) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", date_spec(day(offset)))
    world.commit()

    result = run(engine)

    assert world.status(ms) == ("Completed" if met else "Ready")
    assert world.condition_status(ms, 1) == ("Completed" if met else "Ready")
    assert world.completed_on(ms) == (AS_OF if met else None)
    assert result.milestones_completed == int(met)
    assert result.conditions_completed["Date"] == int(met)


def test_completed_on_is_the_as_of_date_not_the_condition_date(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", date_spec(day(-30)))
    world.commit()

    run(engine)

    assert world.completed_on(ms) == AS_OF
    m = world.row(ms)
    assert m.conditions[0].completed_on == AS_OF
    assert m.completed_by_run == 1


def test_user_initiated_counts_only_when_marked(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    marked = world.milestone(k, "MS001", user_spec())
    unmarked = world.milestone(k, "MS002", user_spec())
    world.mark(marked)
    world.commit()

    result = run(engine)

    assert world.status(marked) == "Completed"
    assert world.status(unmarked) == "Ready"
    assert world.condition_status(unmarked, 1) == "Ready"
    assert result.conditions_completed["User Initiated"] == 0  # the engine only reads Mark Complete


@pytest.mark.parametrize(("completed_offset", "lag", "met"), [(-10, 10, True), (-9, 10, False), (0, 0, True)])
def test_contracts_milestone_condition_waits_for_days_lag(
    engine: sa.Engine, world: World, completed_offset: int, lag: int, met: bool
) -> None:
    """Met when ``completed_on + days_lag <= as_of``: the referenced milestone completes in a first run as of
    an earlier date, the referencing one is processed as of AS_OF."""
    k = world.contract("US001/K1")
    first = world.milestone(k, "MS001", date_spec(day(completed_offset)))
    second = world.milestone(k, "MS002", ref_spec(first, days_lag=lag))
    world.commit()

    run(engine, as_of=day(completed_offset))
    assert world.completed_on(first) == day(completed_offset)
    run(engine)

    assert world.status(second) == ("Completed" if met else "Ready")


def test_days_lag_holds_a_chain_until_a_later_run(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    first = world.milestone(k, "MS001", date_spec(day(0)))
    second = world.milestone(k, "MS002", ref_spec(first, days_lag=3))
    world.commit()

    run(engine)
    assert (world.status(first), world.status(second)) == ("Completed", "Ready")
    run(engine, as_of=day(2))
    assert world.status(second) == "Ready"
    run(engine, as_of=day(3))
    assert world.status(second) == "Completed"
    assert world.completed_on(second) == day(3)


@pytest.mark.parametrize(
    ("lag", "as_of_offset", "met"), [(0, -5, True), (0, -6, False), (2, -3, True), (2, -4, False)]
)
def test_projects_condition_uses_the_first_time_the_status_was_reached(
    engine: sa.Engine, world: World, lag: int, as_of_offset: int, met: bool
) -> None:
    """The activity reached Complete on day -5, went back to Active on day -2 and is Complete again on day 0:
    the first instance (day -5) is what counts, even though the status was left."""
    world.activity(
        "PRJ1",
        "ACT1",
        [("Active", day(-20)), ("Complete", day(-5)), ("Active", day(-2)), ("Complete", day(0))],
    )
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", project_spec("PRJ1", "ACT1", "Complete", days_lag=lag))
    world.commit()

    run(engine, as_of=day(as_of_offset))

    assert world.status(ms) == ("Completed" if met else "Ready")


def test_projects_condition_waits_for_a_status_never_reached(engine: sa.Engine, world: World) -> None:
    world.activity("PRJ1", "ACT1", [("Active", day(-20))])
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", project_spec("PRJ1", "ACT1", "Complete"))
    world.commit()

    result = run(engine, as_of=day(100))

    assert world.status(ms) == "Ready"
    assert result.message_counts["warning"] == 0  # it can still happen: not reported


@pytest.mark.parametrize(
    ("required", "dates", "expected"),
    [
        (RequiredConditions.ALL, (-1, -1), "Completed"),
        (RequiredConditions.ALL, (-1, 1), "Ready"),
        (RequiredConditions.ONE, (-1, 1), "Completed"),
        (RequiredConditions.ONE, (1, 1), "Ready"),
    ],
)
def test_all_needs_every_condition_one_needs_any(
    engine: sa.Engine, world: World, required: RequiredConditions, dates: tuple[int, int], expected: str
) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", *(date_spec(day(d)) for d in dates), required=required)
    world.commit()

    run(engine)

    assert world.status(ms) == expected
    # a met condition is Completed even when its milestone is not (PeopleSoft's condition status)
    assert [world.condition_status(ms, seq) for seq in (1, 2)] == [
        "Completed" if d <= 0 else "Ready" for d in dates
    ]


def test_all_with_a_marked_user_condition_and_a_due_date(engine: sa.Engine, world: World) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", user_spec(), date_spec(day(0)))
    world.commit()
    run(engine)
    assert world.status(ms) == "Ready"  # the date is met, the user has not marked

    world.mark(ms, 1)
    world.commit()
    result = run(engine, as_of=day(1))

    assert world.status(ms) == "Completed"
    assert world.completed_on(ms) == day(1)
    assert result.conditions_completed["Date"] == 0  # completed by the first run already


def test_status_changes_are_written_by_the_process_instance(
    engine: sa.Engine, world: World, session: Session
) -> None:
    k = world.contract("US001/K1")
    ms = world.milestone(k, "MS001", date_spec(day(0)), date_spec(day(-1)))
    world.commit()

    result = run(engine)

    pk = world.row(ms).id
    rows = session.execute(
        sa.select(
            StatusChange.object_type,
            StatusChange.old_status,
            StatusChange.new_status,
            StatusChange.changed_by,
        )
        .where(StatusChange.changed_by.like("run %"))
        .order_by(StatusChange.id)
    ).all()
    assert sorted(rows) == sorted(
        [
            ("Condition", "Ready", "Completed", f"run {result.process_instance}"),
            ("Condition", "Ready", "Completed", f"run {result.process_instance}"),
            ("Milestone", "Ready", "Completed", f"run {result.process_instance}"),
        ]
    )
    milestone_rows = session.scalars(
        sa.select(StatusChange.reason).where(
            StatusChange.object_type == "Milestone", StatusChange.object_pk == pk
        )
    ).all()
    assert milestone_rows[-1] == f"required conditions met as of {AS_OF}"


def test_pending_and_cancelled_milestones_are_ignored(
    engine: sa.Engine, world: World, session: Session
) -> None:
    k = world.contract("US001/K1")
    pending = world.milestone(k, "MS001", date_spec(day(-1)), ready=False)
    world.commit()

    result = run(engine)

    assert world.status(pending) == "Pending"
    assert world.condition_status(pending, 1) == "Ready"
    assert result.milestones_processed == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Milestone)) == 1
