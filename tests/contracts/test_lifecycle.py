"""Cancel and references, condition editing, Mark Complete/undo, classification, and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import milestones, projects
from contracts.audit import ObjectType
from contracts.errors import InvalidInput, NotAuthorized, NotFound, RuleViolation
from contracts.keys import get_condition, get_milestone
from contracts.models import StatusChange
from contracts.specs import ConditionSpec
from contracts.status import ConditionStatus, ConditionType, MilestoneSource, MilestoneStatus
from tests.contracts.helpers import (
    DATE,
    USER,
    add_milestone,
    add_plan_event,
    attempt,
    dump,
    force_status,
    history,
    mkey,
    ref,
    seed,
    who,
)

MS1 = mkey("MS001/1")


@pytest.fixture
def world(session: Session) -> Session:
    seed(session)
    session.commit()
    return session


def refused(engine: Engine, action: object) -> str:
    """The message of a refusal, after checking that the refusal changed nothing."""
    before = dump(engine)
    error = attempt(engine, action)  # type: ignore[arg-type]
    assert error is not None, "expected a refusal"
    assert dump(engine) == before
    return str(error)


# --- cancel and references ----------------------------------------------------------------------


def test_cancel_lists_every_reference(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE])
    add_milestone(world, "MS002", [ref("MS001/1")])
    add_milestone(world, "MS003", [USER, ref("MS001/1", days_lag=5)])
    force_status(world, mkey("MS003/1"), MilestoneStatus.COMPLETED)
    add_plan_event(world, MS1, "BP1", 1)
    add_plan_event(world, MS1, "BP1", 2)
    world.commit()
    message = refused(engine, lambda s: milestones.cancel(s, MS1, who()))
    assert message == (
        "milestone US001/K1000/MS001/1: cannot be cancelled while referenced by:\n"
        "  - condition 1 of milestone US001/K1000/MS002/1 (Pending)\n"
        "  - condition 2 of milestone US001/K1000/MS003/1 (Completed)\n"
        "  - billing plan BP1 event 1 on line 1 of US001/K1000 (Pending)\n"
        "  - billing plan BP1 event 2 on line 1 of US001/K1000 (Pending)"
    )


def test_a_cancelled_referrer_no_longer_counts(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE])
    add_milestone(world, "MS002", [ref("MS001/1")])
    world.commit()
    assert attempt(engine, lambda s: milestones.cancel(s, mkey("MS002/1"), who())) is None
    assert attempt(engine, lambda s: milestones.cancel(s, MS1, who())) is None
    world.expire_all()
    row = get_milestone(world, MS1)
    assert row.status == MilestoneStatus.CANCELLED
    assert history(world, ObjectType.MILESTONE, row.id) == [
        (None, "Pending", "admin", "added"),
        ("Pending", "Cancelled", "admin", "cancelled by user"),
    ]


def test_a_plan_event_blocks_cancel_alone(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [DATE])
    add_plan_event(world, MS1)
    world.commit()
    assert refused(engine, lambda s: milestones.cancel(s, MS1, who())).endswith(
        "  - billing plan BP1 event 1 on line 1 of US001/K1000 (Pending)"
    )


# --- condition editing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [MilestoneStatus.READY, MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED]
)
def test_conditions_change_only_while_pending(
    engine: Engine, world: Session, status: MilestoneStatus
) -> None:
    add_milestone(world, "MS001", [DATE])
    force_status(world, MS1, status)
    world.commit()
    key = "milestone US001/K1000/MS001/1"
    assert refused(engine, lambda s: milestones.add_condition(s, MS1, USER, who())) == (
        f"{key}: conditions can be added only while the milestone is Pending; it is {status}"
    )
    assert refused(engine, lambda s: milestones.update_condition(s, MS1, 1, USER, who())) == (
        f"{key}: conditions can be changed only while the milestone is Pending; it is {status}"
    )
    assert refused(engine, lambda s: milestones.delete_condition(s, MS1, 1, who())) == (
        f"{key}: conditions can be deleted only while the milestone is Pending; it is {status}"
    )


def test_update_resets_a_completed_condition_to_ready(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [USER])
    world.commit()
    assert attempt(engine, lambda s: make_ready(s, MS1, who(), SqlRules())) is None
    assert attempt(engine, lambda s: milestones.mark_complete(s, MS1, 1, who())) is None
    assert attempt(engine, lambda s: milestones.set_pending(s, MS1, who())) is None
    new = ConditionSpec(ConditionType.DATE, condition_date=dt.date(2026, 5, 1), descr="moved")
    assert attempt(engine, lambda s: milestones.update_condition(s, MS1, 1, new, who("bob"))) is None
    world.expire_all()
    condition = get_condition(world, MS1, 1)
    assert (condition.condition_type, condition.condition_status, condition.completed_by) == (
        ConditionType.DATE,
        ConditionStatus.READY,
        None,
    )
    assert history(world, ObjectType.CONDITION, condition.id) == [
        ("Ready", "Completed", "admin", "Mark Complete"),
        ("Completed", "Ready", "bob", "condition changed"),
    ]


def test_delete_then_redefine_starts_ready(engine: Engine, world: Session) -> None:
    """The seed: a deleted Completed condition, defined again, shows the default status Ready."""
    add_milestone(world, "MS001", [USER, DATE])
    world.commit()
    for action in (
        lambda s: make_ready(s, MS1, who(), SqlRules()),
        lambda s: milestones.mark_complete(s, MS1, 1, who()),
        lambda s: milestones.set_pending(s, MS1, who()),
        lambda s: milestones.delete_condition(s, MS1, 1, who()),
        lambda s: milestones.add_condition(s, MS1, USER, who()),
    ):
        assert attempt(engine, action) is None
    world.expire_all()
    assert [
        (c.condition_seq, c.condition_type, c.condition_status) for c in get_milestone(world, MS1).conditions
    ] == [
        (2, ConditionType.DATE, ConditionStatus.READY),
        (3, ConditionType.USER, ConditionStatus.READY),
    ]


def test_fields_of_another_type_are_refused(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001")
    world.commit()
    bad = ConditionSpec(ConditionType.DATE, sql_text="SELECT 1")
    error = attempt(engine, lambda s: milestones.add_condition(s, MS1, bad, who()))
    assert isinstance(error, InvalidInput)
    assert str(error) == "milestone US001/K1000/MS001/1 condition 1: a Date condition has no sql_text"


def test_a_reference_must_exist_when_named(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001")
    world.commit()
    error = attempt(engine, lambda s: milestones.add_condition(s, MS1, ref("MS404/1"), who()))
    assert isinstance(error, NotFound)
    assert str(error) == "milestone US001/K1000/MS404/1 does not exist"


# --- Mark Complete ----------------------------------------------------------------------------------


def test_mark_complete_and_undo(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [USER, DATE])
    world.commit()
    obj = "condition 1 of milestone US001/K1000/MS001/1"
    assert refused(engine, lambda s: milestones.mark_complete(s, MS1, 1, who())) == (
        f"{obj}: Mark Complete needs the milestone Ready, it is Pending"
    )
    assert attempt(engine, lambda s: make_ready(s, MS1, who(), SqlRules())) is None
    assert refused(engine, lambda s: milestones.mark_complete(s, MS1, 2, who())) == (
        "condition 2 of milestone US001/K1000/MS001/1: only User Initiated conditions can be marked complete, this is Date"
    )
    assert (
        refused(engine, lambda s: milestones.undo_mark_complete(s, MS1, 1, who()))
        == f"{obj}: is not marked complete"
    )
    assert attempt(engine, lambda s: milestones.mark_complete(s, MS1, 1, who("alice"))) is None
    assert (
        refused(engine, lambda s: milestones.mark_complete(s, MS1, 1, who()))
        == f"{obj}: is already Completed"
    )
    world.expire_all()
    condition = get_condition(world, MS1, 1)
    assert (condition.condition_status, condition.completed_by, condition.completed_on) == (
        ConditionStatus.COMPLETED,
        "alice",
        dt.date(2026, 1, 10),
    )
    # undo is allowed while Pending too (until the milestone is Completed)
    assert attempt(engine, lambda s: milestones.set_pending(s, MS1, who())) is None
    assert attempt(engine, lambda s: milestones.undo_mark_complete(s, MS1, 1, who("bob"))) is None
    world.expire_all()
    assert history(world, ObjectType.CONDITION, condition.id) == [
        ("Ready", "Completed", "alice", "Mark Complete"),
        ("Completed", "Ready", "bob", "undo Mark Complete"),
    ]


@pytest.mark.parametrize("status", [MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED])
def test_undo_is_refused_once_final(engine: Engine, world: Session, status: MilestoneStatus) -> None:
    add_milestone(world, "MS001", [USER])
    world.commit()
    assert attempt(engine, lambda s: make_ready(s, MS1, who(), SqlRules())) is None
    assert attempt(engine, lambda s: milestones.mark_complete(s, MS1, 1, who())) is None
    force_status(world, MS1, status)
    world.commit()
    assert refused(engine, lambda s: milestones.undo_mark_complete(s, MS1, 1, who())) == (
        f"condition 1 of milestone US001/K1000/MS001/1: Mark Complete cannot be undone once the milestone is {status}"
    )


# --- classification --------------------------------------------------------------------------------


def test_classification_allows_holders_of_its_roles(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [USER], classification="ACCEPT")
    world.commit()
    for action in (
        lambda s: milestones.add_condition(s, MS1, DATE, who("alice")),
        lambda s: milestones.update_condition(s, MS1, 2, DATE, who("alice")),
        lambda s: make_ready(s, MS1, who("alice"), SqlRules()),
        lambda s: milestones.mark_complete(s, MS1, 1, who("alice")),
        lambda s: milestones.undo_mark_complete(s, MS1, 1, who("alice")),
        lambda s: milestones.set_pending(s, MS1, who("alice")),
        lambda s: milestones.delete_condition(s, MS1, 2, who("alice")),
        lambda s: milestones.cancel(s, MS1, who("alice")),
    ):
        assert attempt(engine, action) is None


@pytest.mark.parametrize("user", ["bob", "carol", "nobody"])
def test_classification_refuses_everyone_else(engine: Engine, world: Session, user: str) -> None:
    add_milestone(world, "MS001", [USER], classification="ACCEPT")
    add_milestone(world, "MS002", [USER], classification="ACCEPT")
    world.commit()
    assert attempt(engine, lambda s: make_ready(s, mkey("MS002/1"), who("alice"), SqlRules())) is None
    ms2 = mkey("MS002/1")
    rule = "classification ACCEPT needs one of the roles PM"
    for key, action in (
        (MS1, lambda s: milestones.add_condition(s, MS1, DATE, who(user))),
        (MS1, lambda s: milestones.update_condition(s, MS1, 1, DATE, who(user))),
        (MS1, lambda s: milestones.delete_condition(s, MS1, 1, who(user))),
        (MS1, lambda s: make_ready(s, MS1, who(user), SqlRules())),
        (MS1, lambda s: milestones.cancel(s, MS1, who(user))),
        (ms2, lambda s: milestones.set_pending(s, ms2, who(user))),
        (ms2, lambda s: milestones.mark_complete(s, ms2, 1, who(user))),
    ):
        assert refused(engine, action) == f"milestone {key}: user {user} is not allowed: {rule}"
    assert attempt(engine, lambda s: milestones.mark_complete(s, ms2, 1, who("alice"))) is None
    error = attempt(engine, lambda s: milestones.undo_mark_complete(s, ms2, 1, who(user)))
    assert isinstance(error, NotAuthorized)
    assert error.user == user


def test_adding_a_milestone_with_an_unknown_classification_is_refused(engine: Engine, world: Session) -> None:
    error = attempt(
        engine, lambda s: milestones.add_milestone(s, MS1.contract, "MS001", who(), classification="NOPE")
    )
    assert str(error) == "classification NOPE does not exist"


# --- audit ---------------------------------------------------------------------------------------


def test_every_status_change_writes_one_row(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001", [USER])
    world.commit()
    for action in (
        lambda s: make_ready(s, MS1, who("alice"), SqlRules()),
        lambda s: milestones.set_pending(s, MS1, who("bob")),
        lambda s: make_ready(s, MS1, who("alice"), SqlRules()),
        lambda s: milestones.cancel(s, MS1, who("carol")),
    ):
        assert attempt(engine, action) is None
    world.expire_all()
    row = get_milestone(world, MS1)
    assert history(world, ObjectType.MILESTONE, row.id) == [
        (None, "Pending", "admin", "added"),
        ("Pending", "Ready", "alice", "set Ready by user; edit checks passed"),
        ("Ready", "Pending", "bob", "set Pending by user"),
        ("Pending", "Ready", "alice", "set Ready by user; edit checks passed"),
        ("Ready", "Cancelled", "carol", "cancelled by user"),
    ]
    at = world.scalars(select(StatusChange.changed_at).where(StatusChange.object_pk == row.id)).all()
    assert set(at) == {dt.datetime(2026, 1, 10, 9, 30)}


def test_a_refused_move_writes_no_row(engine: Engine, world: Session) -> None:
    add_milestone(world, "MS001")
    world.commit()
    count = world.scalar(select(func.count()).select_from(StatusChange))
    assert isinstance(attempt(engine, lambda s: make_ready(s, MS1, who(), SqlRules())), RuleViolation)
    assert world.scalar(select(func.count()).select_from(StatusChange)) == count


# --- project activities ---------------------------------------------------------------------------


def test_inactivating_a_referenced_activity_warns_naming_the_contracts(
    engine: Engine, world: Session
) -> None:
    from contracts import admin
    from contracts.keys import ContractKey

    admin.add_contract(world, ContractKey("US001", "K2000"))
    spec = ConditionSpec(
        ConditionType.MILESTONE,
        source=MilestoneSource.PROJECTS,
        project_id="P1",
        activity_id="A1",
        activity_status="Completed",
    )
    add_milestone(world, "MS001", [spec])
    add_milestone(world, "MS001", [spec], contract=ContractKey("US001", "K2000"))
    add_milestone(world, "MS002", [spec])
    world.commit()
    warnings: list[str] = []
    assert attempt(engine, lambda s: warnings.extend(projects.inactivate_activity(s, "P1", "A1"))) is None
    assert warnings == [
        "project activity P1/A1 is referenced by contract US001/K1000",
        "project activity P1/A1 is referenced by contract US001/K2000",
    ]
    world.expire_all()
    assert refused(
        engine, lambda s: projects.set_activity_status(s, "P1", "A1", "Done", dt.date(2026, 3, 1))
    ) == ("project activity P1/A1: is inactive; its status cannot change")
