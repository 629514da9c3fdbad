"""Issue 15: an approval that completes what its milestone needs completes the milestone at once, through the
engine (its own ProcessRun, StatusChange and feed rows), so a status the milestone blocks is free without a
nightly run; still exactly once when a run holds the business unit at the same moment."""

from __future__ import annotations

import datetime as dt
import json
import threading

import sqlalchemy as sa
from sqlalchemy import Engine

from contracts.audit import Who
from contracts.keys import MilestoneKey
from contracts.models import FeedEntry, Milestone, ProcessRun, StatusChange
from ms_prcs.approvals import at_once as approvals
from ms_prcs.engine import RunControl, process, runlock
from ms_prcs.settings import Settings
from tests.approvals.helpers import K1000, approval_milestone, milestone_status, ok, refused
from tests.conftest import CliInvoke
from tests.jobs.helpers import hold_lock

AS_OF = "2026-03-01"


def completions(engine: Engine, key: str) -> list[str]:
    """``changed_by`` of every Ready -> Completed row of the milestone."""
    k = MilestoneKey.parse(key)
    with engine.connect() as conn:
        pk = conn.scalar(
            sa.select(Milestone.id).where(
                Milestone.milestone_id == k.milestone_id, Milestone.milestone_num == 1
            )
        )
        return list(
            conn.scalars(
                sa.select(StatusChange.changed_by)
                .where(
                    StatusChange.object_type == "Milestone",
                    StatusChange.object_pk == pk,
                    StatusChange.new_status == "Completed",
                )
                .order_by(StatusChange.id)
            )
        )


def test_approving_unblocks_activation_without_a_nightly_run(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--on-approve", "event_ready")
    ok(world, "milestone", "block", key, "--status", "Active")
    ok(world, "approval", "submit", key, "1")
    assert refused(world, "contract", "status", K1000, "active").startswith(
        f"contract {K1000}: cannot be set"
    )

    out = ok(world, "approval", "approve", key, "1", "--as-of", AS_OF, user="bob")

    assert out.endswith(
        f"milestone {key} Completed as of {AS_OF} by run 1\napproval of condition 1 of {key} approved by bob\n"
    )
    assert milestone_status(engine, key) == "Completed"
    ok(world, "contract", "status", K1000, "active")  # no nightly run in between
    with engine.connect() as conn:
        run = conn.execute(sa.select(ProcessRun.trigger, ProcessRun.outcome, ProcessRun.as_of)).one()
        feed = conn.scalar(sa.select(sa.func.count()).select_from(FeedEntry))
    assert (run.trigger, run.outcome, str(run.as_of)) == ("approval", "Success", AS_OF)
    assert feed and feed >= 1  # the completion is in the feed, like any run's
    assert completions(engine, key) == ["run 1"]
    # the run list shows it like any other run
    runs = json.loads(ok(world, "runs", "list", "--json"))
    assert [r["trigger"] for r in runs] == ["approval"]


def test_a_rule_can_leave_completion_to_the_next_run(world: CliInvoke, engine: Engine) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN", "--no-complete-at-once")
    ok(world, "approval", "submit", key, "1")
    assert ok(world, "approval", "approve", key, "1", user="bob") == (
        f"approval of condition 1 of {key} approved by bob\n"
    )
    assert milestone_status(engine, key) == "Ready"
    ok(world, "run", "--as-of", AS_OF)
    assert completions(engine, key) == ["run 1"]


def test_completing_frees_what_waits_on_it_in_the_same_run(world: CliInvoke, engine: Engine) -> None:
    first = approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "milestone", "add", K1000, "MS200")
    second = f"{K1000}/MS200/1"
    ok(world, "condition", "add", second, "--type", "milestone", "--ref", first)
    ok(world, "milestone", "ready", second)
    ok(world, "approval", "submit", first, "1")
    out = ok(world, "approval", "approve", first, "1", "--as-of", AS_OF, user="bob")
    assert f"milestone {first} Completed as of {AS_OF} by run 1, and 1 milestone it freed\n" in out
    assert completions(engine, second) == ["run 1"]


def test_exactly_once_when_a_run_holds_the_business_unit(
    world: CliInvoke, engine: Engine, db_url: str
) -> None:
    key = approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "approval", "submit", key, "1")
    holder = hold_lock(engine, ("US001",))
    outcome = approvals.approve(
        engine,
        Settings(db_url=db_url),
        MilestoneKey.parse(key),
        1,
        Who.now("bob"),
        as_of=dt.date.fromisoformat(AS_OF),
        lock_wait_s=0,
    )
    assert outcome.run is None
    assert outcome.notes[-1].startswith(
        f"not completed at once: business unit US001 is being processed by run {holder}"
    )
    assert (
        milestone_status(engine, key) == "Ready"
    )  # the approval stands; the run holding the lock or the next
    with engine.connect() as conn:
        runlock.release(conn, holder)
    ok(world, "run", "--as-of", AS_OF)
    ok(world, "run", "--as-of", AS_OF)
    assert len(completions(engine, key)) == 1


def test_an_approval_during_a_nightly_run_waits_and_completes_once(
    world: CliInvoke, engine: Engine, db_url: str
) -> None:

    key = approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "approval", "submit", key, "1")
    settings = Settings(db_url=db_url, chunk_size=1)
    started, approved = threading.Event(), threading.Event()

    def nightly() -> None:
        def hold(*_: object) -> None:
            started.set()
            approved.wait(30)

        process(engine, RunControl(dt.date.fromisoformat(AS_OF)), settings, hold)

    thread = threading.Thread(target=nightly)
    thread.start()
    assert started.wait(30)
    result: list[approvals.ApprovalOutcome] = []
    approver = threading.Thread(
        target=lambda: result.append(
            approvals.approve(
                engine,
                settings,
                MilestoneKey.parse(key),
                1,
                Who.now("bob"),
                as_of=dt.date.fromisoformat(AS_OF),
            )
        )
    )
    approver.start()
    approved.set()  # the nightly run finishes while the approval's run waits for the lock
    approver.join(60)
    thread.join(60)
    assert milestone_status(engine, key) == "Completed"
    assert len(completions(engine, key)) == 1
