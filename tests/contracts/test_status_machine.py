"""Every (from, to) pair of the milestone status machine: pure, and through the services a user calls."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import milestones
from contracts.audit import ObjectType
from contracts.errors import InvalidTransition
from contracts.keys import MilestoneKey, get_milestone
from contracts.status import MILESTONE_TRANSITIONS, Actor, MilestoneStatus, move_error
from tests.contracts.helpers import DATE, attempt, dump, force_status, history, mkey, seed, who

P, R, C, X = (
    MilestoneStatus.PENDING,
    MilestoneStatus.READY,
    MilestoneStatus.COMPLETED,
    MilestoneStatus.CANCELLED,
)

# What a user is told for each move; None = allowed. Written out, not derived, so the table is checked.
USER_MOVES: dict[tuple[MilestoneStatus, MilestoneStatus], str | None] = {
    (P, P): "it is already Pending",
    (P, R): None,
    (P, C): "from Pending only Cancelled, Ready may follow",
    (P, X): None,
    (R, P): None,
    (R, R): "it is already Ready",
    (R, C): "only the engine may set Completed",
    (R, X): None,
    (C, P): "Completed is final",
    (C, R): "Completed is final",
    (C, C): "it is already Completed",
    (C, X): "Completed is final",
    (X, P): "Cancelled is final",
    (X, R): "Cancelled is final",
    (X, C): "Cancelled is final",
    (X, X): "it is already Cancelled",
}


def test_the_table_covers_every_pair() -> None:
    assert set(USER_MOVES) == set(product(MilestoneStatus, MilestoneStatus))


@pytest.mark.parametrize(("old", "new"), list(USER_MOVES), ids=lambda s: str(s))
def test_user_moves(old: MilestoneStatus, new: MilestoneStatus) -> None:
    assert move_error(MILESTONE_TRANSITIONS, old, new, Actor.USER) == USER_MOVES[old, new]


@pytest.mark.parametrize(("old", "new"), list(USER_MOVES), ids=lambda s: str(s))
def test_engine_moves(old: MilestoneStatus, new: MilestoneStatus) -> None:
    """The engine may only complete a Ready milestone; every move a user may make is refused to it."""
    problem = move_error(MILESTONE_TRANSITIONS, old, new, Actor.ENGINE)
    if (old, new) == (R, C):
        assert problem is None
    elif USER_MOVES[old, new] is None:
        assert problem == f"only the user may set {new}"
    else:
        assert problem == USER_MOVES[old, new]


def test_completed_and_cancelled_are_final() -> None:
    assert not [pair for pair in MILESTONE_TRANSITIONS if pair[0] in (C, X)]


# --- the same moves through the services ------------------------------------------------------------

SERVICES: dict[MilestoneStatus, Callable[[Session, MilestoneKey], object]] = {
    R: lambda s, k: make_ready(s, k, who(), SqlRules()),
    P: lambda s, k: milestones.set_pending(s, k, who()),
    X: lambda s, k: milestones.cancel(s, k, who()),
}


@pytest.mark.parametrize(("old", "new"), list(product([P, R, C, X], SERVICES)), ids=lambda s: str(s))
def test_user_move_through_service(
    engine: Engine, session: Session, old: MilestoneStatus, new: MilestoneStatus
) -> None:
    seed(session)
    key = mkey("MS001/1")
    milestones.add_milestone(session, key.contract, "MS001", who())
    milestones.add_condition(session, key, DATE, who())
    if old != P:
        force_status(session, key, R if old == R else old)
    session.commit()
    before = dump(engine)

    error = attempt(engine, lambda s: SERVICES[new](s, key))

    expected = USER_MOVES[old, new]
    if expected is None:
        assert error is None
        session.expire_all()
        row = get_milestone(session, key)
        assert row.status == new
        assert history(session, ObjectType.MILESTONE, row.id)[-1][:3] == (old, new, "admin")
    else:
        assert isinstance(error, InvalidTransition)
        assert str(error) == f"milestone US001/K1000/MS001/1: cannot change status {old} -> {new}: {expected}"
        assert dump(engine) == before
