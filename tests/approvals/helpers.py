"""Builders and probes for the approval tests: everything goes through the CLI (``cli`` fixture), and the
database is read back with plain queries, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from contracts.keys import MilestoneKey, get_condition, get_milestone
from contracts.models import ProcessMessage
from ms_prcs.approvals.models import ApprovalAction, InboxItem, MilestoneWorkflow
from tests.cli_calls import ok, refused

__all__ = ["ok", "refused"]  # the CLI callers every approvals test uses, re-exported with the world builders
from tests.conftest import CliInvoke

K1000 = "US001/K1000"
MS100 = "US001/K1000/MS100/1"
MS200 = "US001/K1000/MS200/1"
MS300 = "US001/K1000/MS300/1"


def build_world(cli: CliInvoke) -> None:
    """US001 (and US002) with roles FIN and LEGAL; alice (no role), bob (FIN), carol (no role), dave (no
    role), erin (LEGAL); contract US001/K1000 with line 1 of 10,000 and attribute Priority=Low, Pending."""
    for args in (
        ["bu", "add", "US001"],
        ["bu", "add", "US002"],
        ["role", "add", "FIN"],
        ["role", "add", "LEGAL"],
        ["user", "add", "alice"],
        ["user", "add", "bob", "--role", "FIN"],
        ["user", "add", "carol"],
        ["user", "add", "dave"],
        ["user", "add", "erin", "--role", "LEGAL"],
        ["contract", "add", K1000, "--customer", "ACME", "--attr", "Priority=Low"],
        ["contract", "line", "add", K1000, "1", "--amount", "10000"],
    ):
        ok(cli, *args)


def approval_milestone(
    cli: CliInvoke, milestone_id: str, *rule: str, descr: str = "", contract: str = K1000, ready: bool = True
) -> str:
    """A milestone with one User Initiated condition whose approval rule is ``rule`` (``approval rule``
    options), set Ready; returns its key."""
    out = ok(cli, "milestone", "add", contract, milestone_id, "--descr", descr or f"{milestone_id} approval")
    key = out.split()[1]
    ok(cli, "condition", "add", key, "--type", "user", "--descr", "Sign-off")
    ok(cli, "approval", "rule", key, "1", *rule)
    if ready:
        ok(cli, "milestone", "ready", key)
    return key


def set_workflow(engine: Engine, key: str, **fields: Any) -> None:
    """A milestone's workflow row (step, any_time, deadlines ...), written directly: the commands that
    set them belong to the steps and gates part of the approval layer."""
    with Session(engine) as session, session.begin():
        milestone = get_milestone(session, MilestoneKey.parse(key))
        session.execute(insert(MilestoneWorkflow).values(milestone_pk=milestone.id, **fields))


def actions(engine: Engine, key: str, seq: int = 1) -> list[tuple[str, str, str, str]]:
    """(action, via, by, note) of an approval's history, oldest first."""
    with Session(engine) as session:
        condition = get_condition(session, MilestoneKey.parse(key), seq)
        return [
            (a, v, b, n)
            for a, v, b, n in session.execute(
                select(
                    ApprovalAction.action, ApprovalAction.via, ApprovalAction.acted_by, ApprovalAction.note
                )
                .where(ApprovalAction.condition_pk == condition.id)
                .order_by(ApprovalAction.id)
            )
        ]


def condition_status(engine: Engine, key: str, seq: int = 1) -> tuple[str, str | None]:
    with Session(engine) as session:
        condition = get_condition(session, MilestoneKey.parse(key), seq)
        return condition.condition_status.value, condition.completed_by


def milestone_status(engine: Engine, key: str) -> str:
    with Session(engine) as session:
        return get_milestone(session, MilestoneKey.parse(key)).status.value


def inbox_texts(engine: Engine, user: str, *, done: bool | None = False) -> list[str]:
    with Session(engine) as session:
        query = select(InboxItem.text).where(InboxItem.user_id == user).order_by(InboxItem.id)
        if done is not None:
            query = query.where(InboxItem.done.is_(done))
        return list(session.scalars(query))


def view_of(cli: CliInvoke, key: str, as_of: str = "2026-03-01") -> str:
    """The milestone's approval view (``approval`` of ``approval show --json``)."""
    import json

    data = json.loads(ok(cli, "approval", "show", key, "--as-of", as_of, "--json"))
    return str(data["approval"])


def run_messages(engine: Engine, process_instance: int) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [
            (s, o, t)
            for s, o, t in session.execute(
                select(ProcessMessage.severity, ProcessMessage.object_key, ProcessMessage.text)
                .where(ProcessMessage.process_instance == process_instance)
                .order_by(ProcessMessage.id)
            )
        ]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
