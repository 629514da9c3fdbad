"""Random sequences of admin commands on a small world (hypothesis, rule-based), on both backends.

Two promises are checked after every step: a refused command leaves every table exactly as it was, and a
Completed or Cancelled milestone (with its conditions) never changes again. Along the way, every
milestone's status must be the last one its StatusChange rows record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import milestones
from contracts.keys import MilestoneKey, get_milestone
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, MilestoneSource, MilestoneStatus
from ms_prcs.db import transaction
from tests.contracts.helpers import (
    DATE,
    SQL,
    USER,
    _tables,
    add_milestone,
    add_plan_event,
    attempt,
    dump,
    force_status,
    mkey,
    ref,
    seed,
    who,
)

KEYS = [mkey(f"MS00{i}/1") for i in range(1, 6)] + [mkey("MS009/1")]
SPECS = [
    DATE,
    ConditionSpec(ConditionType.DATE),  # no date: fails the edit checks
    USER,
    SQL,
    ConditionSpec(ConditionType.SQL, sql_text="DELETE FROM contract"),
    ref("MS001/1"),
    ref("MS002/1", days_lag=2),
    ref("MS003/1"),
    ref("MS005/1"),  # Cancelled
    ref("MS009/1"),  # does not exist
    ConditionSpec(
        ConditionType.MILESTONE,
        source=MilestoneSource.PROJECTS,
        project_id="P1",
        activity_id="A1",
        activity_status="Completed",
    ),
    ConditionSpec(ConditionType.DATE, condition_date=dt.date(2026, 2, 1), sql_text="SELECT 1"),  # stray field
]
FINAL = ("Completed", "Cancelled")


def build_world(engine: Engine) -> None:
    """MS001 (Date, User), MS002 (-> MS001, on a plan event), MS003 (User, classified ACCEPT),
    MS004 Completed by the engine, MS005 Cancelled."""
    with transaction(engine) as session:
        for table in reversed(_tables(engine)):
            session.execute(delete(table))
    with Session(engine) as session:
        seed(session)
        add_milestone(session, "MS001", [DATE, USER])
        add_milestone(session, "MS002", [ref("MS001/1")])
        add_milestone(session, "MS003", [USER], classification="ACCEPT")
        add_milestone(session, "MS004", [DATE, USER])
        add_milestone(session, "MS005", [DATE])
        add_plan_event(session, mkey("MS002/1"))
        make_ready(session, mkey("MS004/1"), who(), SqlRules())
        milestones.mark_complete(session, mkey("MS004/1"), 2, who())
        force_status(session, mkey("MS004/1"), MilestoneStatus.COMPLETED)
        milestones.cancel(session, mkey("MS005/1"), who())
        session.commit()


def rows(engine: Engine, snapshot: dict[str, list[tuple[Any, ...]]], table: str) -> list[dict[str, Any]]:
    (columns,) = [[c.name for c in t.columns] for t in _tables(engine) if t.name == table]
    return [dict(zip(columns, row, strict=True)) for row in snapshot[table]]


class AdminCommands(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        build_world(engine)
        self.snapshot = dump(engine)
        self.final: dict[int, tuple[Any, ...]] = {}
        self.refused = 0

    def run(self, action: Callable[[Session], object]) -> None:
        before = self.snapshot
        error = attempt(self.engine, action)
        self.snapshot = dump(self.engine)
        if error is not None:
            self.refused += 1
            assert self.snapshot == before, f"refused ({error}) but the database changed"

    # --- the commands ---------------------------------------------------------------------------------

    users = st.sampled_from(["alice", "bob"])
    keys = st.sampled_from(KEYS)
    seqs = st.integers(min_value=1, max_value=4)
    specs = st.sampled_from(SPECS)

    @rule(key=keys, user=users)
    def ready(self, key: MilestoneKey, user: str) -> None:
        self.run(lambda s: make_ready(s, key, who(user), SqlRules()))

    @rule(key=keys, user=users)
    def pending(self, key: MilestoneKey, user: str) -> None:
        self.run(lambda s: milestones.set_pending(s, key, who(user)))

    @rule(key=keys, user=users)
    def cancel(self, key: MilestoneKey, user: str) -> None:
        self.run(lambda s: milestones.cancel(s, key, who(user)))

    @rule(key=keys, user=users, spec=specs)
    def add_condition(self, key: MilestoneKey, user: str, spec: ConditionSpec) -> None:
        self.run(lambda s: milestones.add_condition(s, key, spec, who(user)))

    @rule(key=keys, seq=seqs, user=users, spec=specs)
    def update_condition(self, key: MilestoneKey, seq: int, user: str, spec: ConditionSpec) -> None:
        self.run(lambda s: milestones.update_condition(s, key, seq, spec, who(user)))

    @rule(key=keys, seq=seqs, user=users)
    def delete_condition(self, key: MilestoneKey, seq: int, user: str) -> None:
        self.run(lambda s: milestones.delete_condition(s, key, seq, who(user)))

    @rule(key=keys, seq=seqs, user=users)
    def mark_complete(self, key: MilestoneKey, seq: int, user: str) -> None:
        self.run(lambda s: milestones.mark_complete(s, key, seq, who(user)))

    @rule(key=keys, seq=seqs, user=users)
    def undo(self, key: MilestoneKey, seq: int, user: str) -> None:
        self.run(lambda s: milestones.undo_mark_complete(s, key, seq, who(user)))

    @rule(key=keys)
    def engine_completes(self, key: MilestoneKey) -> None:
        """What a run does to a Ready milestone whose conditions are met: a direct UPDATE, no service."""

        def complete(session: Session) -> None:
            if get_milestone(session, key).status == MilestoneStatus.READY:
                force_status(session, key, MilestoneStatus.COMPLETED)

        self.run(complete)

    # --- the promises ---------------------------------------------------------------------------------

    @invariant()
    def final_milestones_never_change(self) -> None:
        conditions: dict[int, list[dict[str, Any]]] = {}
        for condition in rows(self.engine, self.snapshot, "milestone_condition"):
            conditions.setdefault(condition["milestone_pk"], []).append(condition)
        for milestone in rows(self.engine, self.snapshot, "milestone"):
            state = (milestone, sorted(conditions.get(milestone["id"], []), key=lambda c: c["condition_seq"]))
            if milestone["id"] in self.final:
                assert state == self.final[milestone["id"]], (
                    f"final milestone {milestone['milestone_id']} changed"
                )
            elif milestone["status"] in FINAL:
                self.final[milestone["id"]] = state
        assert len(self.final) >= 2  # MS004 and MS005 from the start

    @invariant()
    def status_matches_its_history(self) -> None:
        last: dict[int, str] = {}
        for change in sorted(rows(self.engine, self.snapshot, "status_change"), key=lambda c: c["id"]):
            if change["object_type"] == "Milestone":
                last[change["object_pk"]] = change["new_status"]
        for milestone in rows(self.engine, self.snapshot, "milestone"):
            assert last[milestone["id"]] == milestone["status"]


def test_random_admin_commands_keep_the_promises(engine: Engine) -> None:
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        lambda: AdminCommands(engine),
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
