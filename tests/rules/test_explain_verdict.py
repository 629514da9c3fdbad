"""Issue 15: the explanation of a milestone gives the engine's verdict (a dry run over it and what it waits
on), so steps and chains can never make it promise what a run will not do; and a step holds back only the
milestones of its own contract."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from conditions.explain import explain_milestone
from contracts.keys import MilestoneKey, get_milestone
from ms_prcs.approvals.models import MilestoneWorkflow
from ms_prcs.explain import explain
from tests.engine.world import AS_OF, RULES, World, date_spec, ref_spec, run, user_spec


def step(session: Session, key: MilestoneKey, number: int) -> None:
    session.execute(
        insert(MilestoneWorkflow).values(milestone_pk=get_milestone(session, key).id, step=number)
    )


def why(session: Session, key: MilestoneKey, as_of: dt.date = AS_OF) -> tuple[bool, str]:
    session.expire_all()
    e = explain(session, get_milestone(session, key), as_of, rules=RULES, timeout_s=5.0)
    return e.complete, e.summary


def test_an_open_earlier_step_means_not_complete_and_the_run_agrees(session: Session, engine: Engine) -> None:
    world = World(session)
    k = world.contract("US001/K1004")
    mobilize = world.milestone(k, "MOBILIZE", user_spec())
    kickoff = world.milestone(k, "KICKOFF", date_spec(AS_OF))
    step(session, mobilize, 1)
    step(session, kickoff, 2)
    world.commit()
    assert why(session, kickoff) == (
        False,
        f"all 1 conditions are met (ALL), but earlier steps are not Completed: {mobilize} (Ready)",
    )
    assert run(engine, dry_run=True).completed == ()
    world.mark(mobilize)
    world.commit()
    assert why(session, kickoff) == (
        True,
        f"all 1 conditions are met (ALL): a run as of {AS_OF} completes it",
    )  # the run completes MOBILIZE first, which frees KICKOFF in the same run
    assert run(engine, dry_run=True).completed == (str(kickoff), str(mobilize))


def test_a_chain_that_completes_in_the_same_run_reads_complete(session: Session, engine: Engine) -> None:
    world = World(session)
    k = world.contract("US001/K1")
    first = world.milestone(k, "MS1", date_spec(AS_OF))
    second = world.milestone(k, "MS2", ref_spec(first))
    world.commit()
    complete, summary = why(session, second)
    assert complete and summary.endswith(f"a run as of {AS_OF} completes it")
    run(engine)
    assert world.status(second) == "Completed"


def test_a_step_holds_back_only_its_own_contract(session: Session, engine: Engine) -> None:
    world = World(session)
    a, b = world.contract("US001/KA"), world.contract("US001/KB")
    open_elsewhere = world.milestone(a, "MS1", user_spec())
    later_here = world.milestone(b, "MS2", date_spec(AS_OF))
    step(session, open_elsewhere, 1)
    step(session, later_here, 2)
    world.commit()
    assert why(session, later_here)[0] is True
    run(engine)
    assert world.status(later_here) == "Completed"  # was held back by contract KA's open step 1


def test_the_condition_lines_of_a_chain_say_what_the_run_does(session: Session, engine: Engine) -> None:
    world = World(session)
    k = world.contract("US001/K1")
    first = world.milestone(k, "MS1", date_spec(AS_OF))
    second = world.milestone(k, "MS2", ref_spec(first))
    world.commit()
    session.expire_all()
    e = explain(session, get_milestone(session, second), AS_OF, rules=RULES, timeout_s=5.0)
    assert [c.line() for c in e.conditions] == [
        f"condition 1 (Milestone): met: met in this run: {first} completes first"
    ]
    assert e.summary == f"all 1 conditions are met (ALL): a run as of {AS_OF} completes it"
    # Without the engine's verdict (no chain known) the line is the plain one.
    plain = explain_milestone(session, get_milestone(session, second), AS_OF, rules=RULES, timeout_s=5.0)
    assert [c.line() for c in plain.conditions] == [
        f"condition 1 (Milestone): not met: waiting for {first} (Ready)"
    ]
    run(engine)
    assert world.status(second) == "Completed"


def test_a_days_lag_keeps_the_chain_apart(session: Session, engine: Engine) -> None:
    world = World(session)
    k = world.contract("US001/K1")
    first = world.milestone(k, "MS1", date_spec(AS_OF))
    second = world.milestone(k, "MS2", ref_spec(first, days_lag=2))
    world.commit()
    session.expire_all()
    e = explain(session, get_milestone(session, second), AS_OF, rules=RULES, timeout_s=5.0)
    assert (e.complete, [c.met for c in e.conditions]) == (False, [False])
    assert e.conditions[0].reason == f"waiting for {first} (Ready)"
    run(engine)
    assert (world.status(first), world.status(second)) == ("Completed", "Ready")
    later = AS_OF + dt.timedelta(days=2)
    session.expire_all()
    e = explain(session, get_milestone(session, second), later, rules=RULES, timeout_s=5.0)
    assert e.conditions[0].reason == f"{first} Completed on {AS_OF}; Days Lag 2: met on {later}"
    assert e.complete
