"""The run's approval step, set-based: submissions the run makes due (with auto-approval) and Past Due
warnings cost the same few statements for 2 contracts as for 12, stay inside the run's scope, and a rerun
changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import admin, milestones
from contracts.audit import Who
from contracts.keys import ContractKey, MilestoneKey, get_condition, get_milestone
from contracts.models import ProcessMessage, Role
from contracts.specs import ConditionSpec
from contracts.status import ConditionType
from ms_prcs.approvals import decide, submit
from ms_prcs.approvals.config import approval as config
from ms_prcs.approvals.models import ApprovalAction, MilestoneWorkflow
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.settings import Settings

AT = dt.datetime(2026, 1, 10, 9, 30)
AS_OF = dt.date(2026, 2, 15)


def who(user: str = "admin") -> Who:
    return Who(user, AT)


def build(engine: Engine, bu: str, contracts: int) -> list[MilestoneKey]:
    """Per contract: step 1 "A" approved by hand (the run completes it), step 2 "B" submitted by the steps
    mode, auto-approved on every other contract, with a complete-by date already past. Returns the B keys."""
    seconds: list[MilestoneKey] = []
    with Session(engine) as session, session.begin():
        admin.add_business_unit(session, bu)
        if session.get(Role, "FIN") is None:
            admin.add_role(session, "FIN")
            admin.add_user(session, "bob", roles=["FIN"])
        for n in range(contracts):
            contract = ContractKey(bu, f"K{n}")
            admin.add_contract(session, contract)
            admin.add_line(session, contract, 1, amount=Decimal("1000"))
            keys = []
            for mid, rule, step in (
                ("A", config.RuleSpec(roles=("FIN",)), 1),
                ("B", config.RuleSpec(roles=("FIN",), submit=config.SubmitModes.parse(["steps"]), auto_approve=n % 2 == 0), 2),
            ):  # fmt: skip
                row = milestones.add_milestone(session, contract, mid, who())
                key = MilestoneKey(contract, row.milestone_id, row.milestone_num)
                milestones.add_condition(session, key, ConditionSpec(ConditionType.USER), who())
                config.set_rule(session, key, 1, rule, who())
                session.execute(
                    insert(MilestoneWorkflow).values(
                        milestone_pk=row.id,
                        step=step,
                        complete_by_date=dt.date(2026, 2, 1) if mid == "B" else None,
                    )
                )
                make_ready(session, key, who(), SqlRules())
                keys.append(key)
            submit.submit(session, keys[0], 1, who())
            decide.approve(session, keys[0], 1, who("bob"))
            seconds.append(keys[1])
    return seconds


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def run(engine: Engine, db_url: str, bu: str, *, dry_run: bool = False) -> RunResult:
    return process(engine, RunControl(AS_OF, (bu,), dry_run=dry_run), Settings(db_url=db_url))


def test_the_approval_step_is_set_based_and_scoped(engine: Engine, db_url: str) -> None:
    small = build(engine, "US001", 2)
    large = build(engine, "US002", 12)
    with counting(engine) as small_statements:
        small_result = run(engine, db_url, "US001")
    with counting(engine) as large_statements:
        large_result = run(engine, db_url, "US002")
    assert len(large_statements) == len(small_statements)
    for result, keys in ((small_result, small), (large_result, large)):
        assert result.milestones_completed == len(keys)  # every A
        auto = len(keys[::2])
        assert f"{len(keys)} approvals submitted by their submit modes ({auto} auto-approved)" in [
            m.text for m in result.messages
        ]
        late = [m.object_key for m in result.messages if m.severity == "warning"]
        assert late == [str(k) for k in keys[1::2]]  # the auto-approved ones are approved in time
    with Session(engine) as session:
        first = get_condition(session, large[0], 1)
        assert (first.condition_status, first.completed_by) == (
            "Completed",
            f"run {large_result.process_instance}",
        )
        assert get_condition(session, large[1], 1).condition_status == "Ready"
        actions = session.scalar(select(func.count()).select_from(ApprovalAction))
    # a rerun submits nothing again; it completes the auto-approved milestones and warns again
    again = run(engine, db_url, "US002")
    assert "approvals submitted" not in " ".join(m.text for m in again.messages)
    assert again.milestones_completed == len(large[::2])
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ApprovalAction)) == actions
        assert get_milestone(session, large[0]).status == "Completed"
        warned = session.scalars(
            select(ProcessMessage.object_key).where(
                ProcessMessage.process_instance == again.process_instance,
                ProcessMessage.severity == "warning",
            )
        ).all()
    assert warned == [str(k) for k in large[1::2]]


def test_a_dry_run_reports_the_step_and_writes_nothing(engine: Engine, db_url: str) -> None:
    keys = build(engine, "US001", 2)
    with Session(engine) as session:
        before = session.scalar(select(func.count()).select_from(ApprovalAction))
    result = run(engine, db_url, "US001", dry_run=True)
    assert "2 approvals submitted by their submit modes (1 auto-approved)" in [
        m.text for m in result.messages
    ]
    assert [m.object_key for m in result.messages if m.severity == "warning"] == [str(keys[1])]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ApprovalAction)) == before
