"""Chains finish in one run, whatever their length and however their links fall into chunks (DESIGN 4,
step 4); cycles neither loop nor pass silently."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts import milestones
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import Milestone, MilestoneCondition, StatusChange
from contracts.status import MilestoneStatus, RequiredConditions
from ms_prcs.engine import RunControl, process
from tests.engine.world import AS_OF, RULES, WHO, World, date_spec, day, ref_spec, run, settings


def build_chain(world: World, length: int, *, head_first: bool, head_offset: int = 0) -> list[MilestoneKey]:
    """A chain head <- link1 <- link2 ...; the head has a Date condition. With ``head_first`` the head gets
    the lowest id; otherwise the highest, so every link is processed before the one it waits for."""
    k = world.contract("US001/K1")
    ids = [f"MS{n:03d}" for n in range(1, length + 1)]
    order = ids if head_first else list(reversed(ids))
    keys = {mid: world.milestone(k, mid, ready=False) for mid in order}
    chain = [keys[mid] for mid in ids]
    milestones.add_condition(world.session, chain[0], date_spec(day(head_offset)), WHO)
    for prev, link in zip(chain, chain[1:], strict=False):
        milestones.add_condition(world.session, link, ref_spec(prev), WHO)
    for key in chain:
        make_ready(world.session, key, WHO, RULES)
    world.commit()
    return chain


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("head_first", [True, False])
@pytest.mark.parametrize("chunk_size", [1, 2, 50_000])
def test_chain_completes_in_one_run(
    engine: sa.Engine, session: Session, length: int, head_first: bool, chunk_size: int
) -> None:
    world = World(session)
    chain = build_chain(world, length, head_first=head_first)

    result = run(engine, chunk_size=chunk_size)

    assert [world.status(k) for k in chain] == ["Completed"] * length
    assert {world.completed_on(k) for k in chain} == {AS_OF}
    assert result.milestones_completed == length
    assert result.conditions_completed["Date"] == 1
    assert result.conditions_completed["Milestone"] == length - 1
    # exactly one Ready -> Completed row per milestone, however many chunks and passes it took
    counts = session.execute(
        sa.select(StatusChange.object_pk, sa.func.count())
        .where(StatusChange.object_type == "Milestone", StatusChange.new_status == "Completed")
        .group_by(StatusChange.object_pk)
    ).all()
    assert sorted(n for _, n in counts) == [1] * length


def test_chain_with_a_head_not_yet_due_waits(engine: sa.Engine, session: Session) -> None:
    world = World(session)
    chain = build_chain(world, 3, head_first=False, head_offset=1)

    result = run(engine, chunk_size=1)

    assert [world.status(k) for k in chain] == ["Ready"] * 3
    assert result.message_counts["warning"] == 0


def test_chain_across_contracts_and_business_units(engine: sa.Engine, session: Session) -> None:
    world = World(session)
    k1 = world.contract("US001/K1")
    k2 = world.contract("EU001/K2")
    head = world.milestone(k1, "MS001", date_spec(day(0)))
    tail = world.milestone(k2, "MS001", ref_spec(head))
    world.commit()

    run(engine, business_units=("US001",))
    assert (world.status(head), world.status(tail)) == ("Completed", "Ready")  # EU001 is out of scope

    run(engine)
    assert world.status(tail) == "Completed"


def test_guard_stops_chain_passes_and_the_next_run_continues(engine: sa.Engine, session: Session) -> None:
    world = World(session)
    chain = build_chain(world, 5, head_first=True)

    result = process(engine, RunControl(as_of=AS_OF), settings(), max_passes=3)

    assert [world.status(k) for k in chain] == ["Completed"] * 3 + ["Ready"] * 2
    assert result.has_errors
    assert any("chain passes stopped after 3" in m.text for m in result.messages)

    process(engine, RunControl(as_of=AS_OF), settings(), max_passes=3)
    assert [world.status(k) for k in chain] == ["Completed"] * 5


def _close_cycle(session: Session, waiting: MilestoneKey, on: MilestoneKey) -> None:
    """Add a reference the Ready edit checks would refuse, the way a bad load or SQL script would."""
    waiter = world_row(session, waiting)
    target = world_row(session, on)
    seq = 1 + max(c.condition_seq for c in waiter.conditions)
    session.add(
        MilestoneCondition(
            milestone_pk=waiter.id,
            condition_seq=seq,
            condition_type="Milestone",
            source="Contracts",
            ref_milestone_pk=target.id,
            days_lag=0,
            condition_status="Ready",
        )
    )
    session.commit()


def world_row(session: Session, key: MilestoneKey) -> Milestone:
    return get_milestone(session, key)


def test_cycle_is_reported_and_does_not_loop(engine: sa.Engine, session: Session) -> None:
    world = World(session)
    k = world.contract("US001/K1")
    a = world.milestone(k, "MS001", date_spec(day(5)))
    b = world.milestone(k, "MS002", ref_spec(a))
    c = world.milestone(k, "MS003", ref_spec(b))
    world.commit()
    _close_cycle(session, a, c)  # MS001 now also waits for MS003: a -> c -> b -> a

    result = run(engine, chunk_size=1)

    assert [world.status(x) for x in (a, b, c)] == ["Ready"] * 3
    cycle = [m for m in result.messages if "cycle" in m.text]
    assert len(cycle) == 1
    assert cycle[0].severity == "warning"
    assert cycle[0].text == (
        "cannot complete as things stand: milestone references form a cycle: "
        "US001/K1/MS001/1 -> US001/K1/MS003/1 -> US001/K1/MS002/1 -> US001/K1/MS001/1"
    )


def test_cycle_member_with_one_and_a_due_date_breaks_the_cycle(engine: sa.Engine, session: Session) -> None:
    """ONE: MS001 completes by its date; the cycle then unwinds within the same run."""
    world = World(session)
    k = world.contract("US001/K1")
    a = world.milestone(k, "MS001", date_spec(day(0)), required=RequiredConditions.ONE)
    b = world.milestone(k, "MS002", ref_spec(a))
    world.commit()
    _close_cycle(session, a, b)

    result = run(engine)

    assert [world.status(x) for x in (a, b)] == ["Completed", "Completed"]
    assert not [m for m in result.messages if "cycle" in m.text]


def test_reference_to_a_cancelled_milestone_is_a_warning(engine: sa.Engine, session: Session) -> None:
    world = World(session)
    k = world.contract("US001/K1")
    gone = world.milestone(k, "MS001", date_spec(day(5)), ready=False)
    waiting = world.milestone(k, "MS002", ref_spec(gone))
    world.commit()
    # cancelling a referenced milestone is refused, so cancel it the way only data fixes can
    row = world_row(session, gone)
    row.status = MilestoneStatus.CANCELLED
    session.commit()

    result = run(engine)

    assert world.status(waiting) == "Ready"
    warnings = [(m.object_key, m.text) for m in result.messages if m.severity == "warning"]
    assert warnings == [
        (
            "US001/K1/MS002/1",
            "cannot complete as things stand: condition 1 (Milestone) references milestone US001/K1/MS001/1,"
            " which is Cancelled",
        )
    ]
