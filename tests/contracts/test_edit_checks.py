"""The Ready edit checks (DESIGN 2): each check with its exact message, all problems listed at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import milestones, projects
from contracts.errors import CycleDetected, EditCheckFailed, MsPrcsError
from contracts.keys import ContractKey, get_milestone
from contracts.models import MilestoneCondition
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource, MilestoneStatus
from tests.contracts.helpers import (
    DATE,
    SQL,
    USER,
    add_milestone,
    attempt,
    dump,
    force_status,
    mkey,
    ref,
    seed,
    who,
)

KEY = "US001/K1000/MS001/1"


def ready(engine: Engine, key: str = KEY) -> MsPrcsError | None:
    return attempt(engine, lambda s: make_ready(s, mkey(key), who(), SqlRules()))


def problems_of(engine: Engine, key: str = KEY) -> tuple[str, ...]:
    before = dump(engine)
    error = ready(engine, key)
    assert isinstance(error, EditCheckFailed), error
    assert dump(engine) == before
    return error.problems


@pytest.fixture
def world(session: Session) -> Session:
    seed(session)
    session.commit()
    return session


def test_a_complete_milestone_passes(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE, USER, SQL])
    world.commit()
    assert ready(engine) is None


def test_at_least_one_condition(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001")
    world.commit()
    error = ready(engine)
    assert str(error) == (
        "milestone US001/K1000/MS001/1: cannot be set Ready, edit checks failed:\n"
        "  - a milestone needs at least one condition"
    )


def test_date_needs_a_date(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [ConditionSpec(ConditionType.DATE)])
    world.commit()
    assert problems_of(engine) == ("condition 1 (Date): a Date condition needs a date",)


def test_sql_needs_text(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [ConditionSpec(ConditionType.SQL)])
    world.commit()
    assert problems_of(engine) == ("condition 1 (SQL): a SQL condition needs SQL text",)


def test_sql_must_pass_the_sql_rules(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [ConditionSpec(ConditionType.SQL, sql_text="DELETE FROM contract")])
    world.commit()
    (problem,) = problems_of(engine)
    assert problem == (
        "condition 1 (SQL): SQL rule: only SELECT statements are allowed, found DELETE (line 1, column 6)\n"
        "  DELETE FROM contract\n"
        "  ^^^^^^"
    )


def test_contracts_reference_needed(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [ConditionSpec(ConditionType.MILESTONE)])
    world.commit()
    assert problems_of(engine) == (
        "condition 1 (Milestone): a Contracts milestone condition needs a referenced milestone",
    )


def test_referenced_milestone_must_not_be_cancelled(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS002", [DATE])
    add_milestone(world, "MS001", [ref("MS002/1")])
    force_status(world, mkey("MS002/1"), MilestoneStatus.CANCELLED)
    world.commit()
    assert problems_of(engine) == (
        "condition 1 (Milestone): referenced milestone US001/K1000/MS002/1 is Cancelled",
    )


def test_projects_reference_needs_project_activity_and_status(engine: Engine, world: Session) -> None:
    projects_only = ConditionSpec(ConditionType.MILESTONE, source=MilestoneSource.PROJECTS)
    no_status = ConditionSpec(
        ConditionType.MILESTONE, source=MilestoneSource.PROJECTS, project_id="P1", activity_id="A1"
    )
    add_milestone(world, "MS001", [projects_only, no_status])
    world.commit()
    assert problems_of(engine) == (
        "condition 1 (Milestone): a Projects milestone condition needs a project and an activity",
        "condition 2 (Milestone): a Projects milestone condition needs an activity status",
    )


def test_projects_reference_must_be_an_active_existing_activity(engine: Engine, world: Session) -> None:
    spec = ConditionSpec(
        ConditionType.MILESTONE,
        source=MilestoneSource.PROJECTS,
        project_id="P1",
        activity_id="A1",
        activity_status="Completed",
    )
    add_milestone(world, "MS001", [spec, spec])
    projects.inactivate_activity(world, "P1", "A1")
    # The services refuse to point at a missing activity; a row left behind by another system can still.
    world.execute(
        update(MilestoneCondition).where(MilestoneCondition.condition_seq == 2).values(activity_id="GONE")
    )
    world.commit()
    assert problems_of(engine) == (
        "condition 1 (Milestone): project activity P1/A1 is inactive",
        "condition 2 (Milestone): project activity P1/GONE does not exist",
    )


def test_an_active_activity_passes(engine: Engine, world: Session) -> None:
    spec = ConditionSpec(
        ConditionType.MILESTONE,
        project_id="P1",
        activity_id="A1",
        activity_status="Completed",
        source=MilestoneSource.PROJECTS,
    )
    add_milestone(world, "MS001", [spec])
    world.commit()
    assert ready(engine) is None


def test_referenced_milestone_must_pass_the_field_checks_too(engine: Engine, world: Session) -> None:
    """The seed: 'If one of the milestone's conditions is another milestone, then you must also enter all
    relevant fields for the referenced milestone' -- down the whole chain."""
    add_milestone(world, "MS003", [ConditionSpec(ConditionType.SQL)])
    add_milestone(world, "MS002", [ConditionSpec(ConditionType.DATE), ref("MS003/1")])
    add_milestone(world, "MS004")
    add_milestone(world, "MS001", [ref("MS002/1"), ref("MS004/1")])
    world.commit()
    assert sorted(problems_of(engine)) == [
        "referenced milestone US001/K1000/MS002/1: condition 1 (Date): a Date condition needs a date",
        "referenced milestone US001/K1000/MS003/1: condition 1 (SQL): a SQL condition needs SQL text",
        "referenced milestone US001/K1000/MS004/1: a milestone needs at least one condition",
    ]


def test_a_completed_reference_is_not_checked_again(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS002", [ConditionSpec(ConditionType.DATE)])
    add_milestone(world, "MS001", [ref("MS002/1", days_lag=3)])
    force_status(world, mkey("MS002/1"), MilestoneStatus.COMPLETED)
    world.commit()
    assert ready(engine) is None


def test_every_problem_is_listed_at_once(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [ConditionSpec(ConditionType.DATE), ConditionSpec(ConditionType.SQL), USER])
    world.commit()
    assert str(ready(engine)) == (
        "milestone US001/K1000/MS001/1: cannot be set Ready, edit checks failed:\n"
        "  - condition 1 (Date): a Date condition needs a date\n"
        "  - condition 2 (SQL): a SQL condition needs SQL text"
    )


def test_cycle_shows_the_whole_loop(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE])
    add_milestone(world, "MS002", [ref("MS001/1")])
    milestones.add_condition(world, mkey("MS001/1"), ref("MS002/1"), who())
    world.commit()
    before = dump(engine)
    error = ready(engine)
    assert isinstance(error, CycleDetected)
    assert str(error) == (
        "milestone US001/K1000/MS001/1: milestone references form a cycle: MS001/1 -> MS002/1 -> MS001/1"
    )
    assert dump(engine) == before


def test_a_self_reference_is_a_cycle(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE])
    milestones.add_condition(world, mkey("MS001/1"), ref("MS001/1"), who())
    world.commit()
    assert str(ready(engine)).endswith("form a cycle: MS001/1 -> MS001/1")


def test_a_downstream_cycle_across_contracts_names_full_keys(engine: Engine, world: Session) -> None:
    from contracts import admin

    admin.add_contract(world, ContractKey("US001", "K2000"))
    k2000 = ContractKey("US001", "K2000")
    add_milestone(world, "MS002", [DATE])
    add_milestone(world, "MS009", [ref("US001/K1000/MS002/1")], contract=k2000)
    milestones.add_condition(world, mkey("MS002/1"), ref("US001/K2000/MS009/1"), who())
    add_milestone(world, "MS001", [ref("MS002/1")])
    world.commit()
    assert str(ready(engine)) == (
        "milestone US001/K1000/MS001/1: milestone references form a cycle: "
        "US001/K1000/MS002/1 -> US001/K2000/MS009/1 -> US001/K1000/MS002/1"
    )


def test_ready_keeps_condition_statuses(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE, USER])
    world.commit()
    assert ready(engine) is None
    world.expire_all()
    row = get_milestone(world, mkey(KEY))
    assert row.status == MilestoneStatus.READY
    assert [c.condition_status for c in row.conditions] == ["Ready", "Ready"]
    assert row.conditions[0].condition_date == dt.date(2026, 1, 31)
