"""Statuses and their legal moves, as data.

This module is the single source of truth for what may change into what, and by whom. It imports no
database code so that the rules can be read, tested (hypothesis walks every pair) and reused anywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class Actor(StrEnum):
    """Who may make a move: a person through the CLI/services, or the engine run (CA_MS_PRCS)."""

    USER = "user"
    ENGINE = "engine"
    CONSUMER = "consumer"


class MilestoneStatus(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class ConditionStatus(StrEnum):
    READY = "Ready"
    COMPLETED = "Completed"


class ConditionType(StrEnum):
    DATE = "Date"
    SQL = "SQL"
    USER = "User Initiated"
    MILESTONE = "Milestone"


class MilestoneSource(StrEnum):
    """Where a Milestone condition looks: another contract milestone, or a Project Costing activity."""

    CONTRACTS = "Contracts"
    PROJECTS = "Projects"


class RequiredConditions(StrEnum):
    ALL = "ALL"
    ONE = "ONE"


class ContractStatus(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    CLOSED = "Closed"


class PlanType(StrEnum):
    BILLING = "Billing"
    REVENUE = "Revenue"


class PlanStatus(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    COMPLETED = "Completed"


class EventType(StrEnum):
    MILESTONE = "Milestone"
    DATE = "Date"


class BillingEventStatus(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    IN_PROGRESS = "In Progress"
    BILLED = "Billed"
    CREDITED = "Credited"


class RevenueEventStatus(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    RECOGNIZED = "Recognized"
    REVERSED = "Reversed"


class HoldStatus(StrEnum):
    """A hold on a contract, plan or plan event (issue 16): Held until released, by a person or, for a
    one-cycle hold, by the next run."""

    HELD = "Held"
    RELEASED = "Released"


class CreatedFrom(StrEnum):
    MANUAL = "Manual"
    TEMPLATE = "Template"
    """Added by a person from a milestone template (``milestone add --template``)."""
    BILLING_PLAN = "Billing Plan"
    REVENUE_PLAN = "Revenue Plan"
    LOAD = "Load"


MILESTONE_TRANSITIONS: dict[tuple[MilestoneStatus, MilestoneStatus], Actor] = {
    (MilestoneStatus.PENDING, MilestoneStatus.READY): Actor.USER,
    (MilestoneStatus.READY, MilestoneStatus.PENDING): Actor.USER,
    (MilestoneStatus.PENDING, MilestoneStatus.CANCELLED): Actor.USER,
    (MilestoneStatus.READY, MilestoneStatus.CANCELLED): Actor.USER,
    (MilestoneStatus.READY, MilestoneStatus.COMPLETED): Actor.ENGINE,
}
"""Completed and Cancelled are final: no move starts from them (the seed: 'cannot be changed back to Pending')."""

CONDITION_TRANSITIONS: dict[tuple[ConditionStatus, ConditionStatus], Actor] = {
    (ConditionStatus.READY, ConditionStatus.COMPLETED): Actor.ENGINE,
}
"""User Initiated conditions are completed (and undone) by Mark Complete; see :func:`mark_complete_allowed`."""

CONTRACT_TRANSITIONS: dict[tuple[ContractStatus, ContractStatus], Actor] = {
    (ContractStatus.PENDING, ContractStatus.ACTIVE): Actor.USER,
    (ContractStatus.ACTIVE, ContractStatus.PENDING): Actor.USER,
    (ContractStatus.ACTIVE, ContractStatus.CLOSED): Actor.USER,
    (ContractStatus.CLOSED, ContractStatus.ACTIVE): Actor.USER,
}
"""Closed -> Active is a reopen; the approvals layer adds its own checks on top."""

BILLING_EVENT_TRANSITIONS: dict[tuple[BillingEventStatus, BillingEventStatus], Actor] = {
    (BillingEventStatus.PENDING, BillingEventStatus.READY): Actor.USER,
    (BillingEventStatus.READY, BillingEventStatus.PENDING): Actor.USER,
    (BillingEventStatus.READY, BillingEventStatus.IN_PROGRESS): Actor.CONSUMER,
    (BillingEventStatus.IN_PROGRESS, BillingEventStatus.BILLED): Actor.CONSUMER,
    (BillingEventStatus.BILLED, BillingEventStatus.CREDITED): Actor.USER,
}
"""Credited is final: the billed event stays as billed, a credit entry on the feed undoes it, and a new event
replaces it (the way Reversed works for revenue)."""

REVENUE_EVENT_TRANSITIONS: dict[tuple[RevenueEventStatus, RevenueEventStatus], Actor] = {
    (RevenueEventStatus.PENDING, RevenueEventStatus.READY): Actor.USER,
    (RevenueEventStatus.READY, RevenueEventStatus.PENDING): Actor.USER,
    (RevenueEventStatus.READY, RevenueEventStatus.RECOGNIZED): Actor.CONSUMER,
    (RevenueEventStatus.RECOGNIZED, RevenueEventStatus.REVERSED): Actor.CONSUMER,
}
"""Reversed is final: a reversed event is never reused (a new event is added instead). A reversal is made by
the revenue system or a person (both act as the consumer here); it is its own feed entry."""

PLAN_TRANSITIONS: dict[tuple[PlanStatus, PlanStatus], Actor] = {
    (PlanStatus.PENDING, PlanStatus.READY): Actor.USER,
    (PlanStatus.READY, PlanStatus.PENDING): Actor.USER,
    (PlanStatus.READY, PlanStatus.COMPLETED): Actor.ENGINE,
    (PlanStatus.COMPLETED, PlanStatus.READY): Actor.ENGINE,
}
"""Completed -> Ready is the system's answer to a reversal or a credit: the plan no longer totals 100 %, so
it leaves Completed and a replacement event can be added (issue 16)."""

HOLD_TRANSITIONS: dict[tuple[HoldStatus, HoldStatus], Actor] = {
    (HoldStatus.HELD, HoldStatus.RELEASED): Actor.USER,
}
"""Released is final; a one-cycle hold is released by the next run on the user's behalf."""


S = TypeVar("S", bound=StrEnum)


def move_error(table: dict[tuple[S, S], Actor], old: S, new: S, actor: Actor) -> str | None:
    """Why ``actor`` may not move ``old -> new`` under ``table``, or ``None`` when the move is legal.

    Returning the reason (rather than a bool) lets every caller raise an error that names the rule.
    """
    if old == new:
        return f"it is already {old}"
    allowed = table.get((old, new))
    if allowed is None:
        if not any(frm == old for frm, _ in table):
            return f"{old} is final"
        targets = ", ".join(sorted({str(to) for frm, to in table if frm == old}))
        return f"from {old} only {targets} may follow"
    if allowed != actor:
        return f"only the {allowed} may set {new}"
    return None


def editable(status: MilestoneStatus) -> bool:
    """Conditions may be added, changed or deleted only while the milestone is Pending (the seed's rule)."""
    return status == MilestoneStatus.PENDING


def mark_complete_allowed(status: MilestoneStatus) -> bool:
    """Mark Complete needs the milestone Ready (DESIGN 3): Pending ones are still being edited."""
    return status == MilestoneStatus.READY


def undo_mark_allowed(status: MilestoneStatus) -> bool:
    """Undo of Mark Complete is allowed until the engine completes the milestone."""
    return status in (MilestoneStatus.PENDING, MilestoneStatus.READY)
