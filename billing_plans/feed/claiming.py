"""Acknowledging the feed, and claiming the billing events of the acknowledged entries.

Exactly once
    Reading changes nothing, so a consumer that crashes before it acknowledges reads the same entries again.
    A billing event is handed out *for processing* at acknowledgement: the transaction that moves the
    consumer's cursor also claims the billing events of the acknowledged entries with a conditional
    ``UPDATE plan_event SET status = 'In Progress' WHERE status = 'Ready'``; the rows it changed, and only
    those, are that consumer's to bill (:class:`AckResult` lists them). Two consumers that read the same
    entry both acknowledge it, and the second one's update finds the event In Progress and claims nothing.
    On PostgreSQL the candidate events are first locked in id order with ``SELECT .. FOR UPDATE``: a
    consumer waiting on a rival's claim re-reads the row when the rival ends (and claims the event itself if
    the rival rolled back, so a crash in the middle of an ack loses nothing), and one lock order rules out
    deadlocks between acks. ``SKIP LOCKED`` was rejected because a consumer could then move its cursor past
    an event a rival locked and then rolled back. The consumer's own row is locked too, so two processes
    acknowledging under one consumer name take turns. On SQLite the single writer serializes acks.

Set-based
    An acknowledgement is a fixed number of statements whatever the number of entries: the consumer row,
    the last cursor, the lock (PostgreSQL), one claiming ``UPDATE .. RETURNING``, one multi-row insert of
    the claims' StatusChange rows, the cursor move, and two reads of the acknowledged range (its size and
    its billing entries with their events' status), as Core rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing_plans.feed.consumers import check_consumer, ensure_consumer
from billing_plans.feed.publishing import READY
from billing_plans.feed.reading import FEED_ENTRY
from billing_plans.feed.records import event_key
from billing_plans.hold_scope import event_held
from contracts.audit import ObjectType, Who, change_row, record_changes
from contracts.errors import InvalidInput, RuleViolation
from contracts.models import FeedConsumer, FeedEntry, FeedKind, PlanEvent
from contracts.status import BillingEventStatus


@dataclass(frozen=True)
class BillingHandout:
    """A billing event announced in the acknowledged entries, and whether this acknowledgement claimed it."""

    cursor: int
    event: str
    amount: Decimal | None
    currency: str | None
    claimed: bool
    status: str


@dataclass(frozen=True)
class AckResult:
    consumer: str
    previous: int
    acked_through: int
    entries: int
    billing: tuple[BillingHandout, ...]

    @property
    def claimed(self) -> tuple[BillingHandout, ...]:
        """The billing events this consumer now owns (In Progress) and must bill."""
        return tuple(b for b in self.billing if b.claimed)


def ack(session: Session, consumer: str, through: int, who: Who) -> AckResult:
    """Acknowledge every entry up to ``through`` for ``consumer`` and claim their billing events.

    Idempotent: acknowledging through a cursor at or below the consumer's position claims nothing and
    changes nothing. Acknowledging beyond the last entry is refused (nothing there was read).
    """
    check_consumer(consumer)
    if through < 0:
        raise InvalidInput(f"feed cursor must be 0 or more, got {through}")
    session.flush()  # the Core statements below see what this session changed before
    conn = session.connection()
    # Write first: on SQLite this takes the write lock before anything is read, so the transaction never
    # has to upgrade a stale read snapshot; on PostgreSQL the row lock below serializes one consumer's acks.
    ensure_consumer(conn, consumer, who.at)
    previous = conn.execute(
        select(FeedConsumer.acked_through).where(FeedConsumer.consumer == consumer).with_for_update()
    ).scalar_one()
    last = conn.scalar(select(func.max(FeedEntry.id))) or 0
    if through > last:
        raise RuleViolation(
            f"feed consumer {consumer}",
            f"cannot acknowledge through cursor {through}: the last entry is {last}",
        )
    if through <= previous:
        return AckResult(consumer, previous, previous, 0, ())

    in_range = (FEED_ENTRY.c.id > previous, FEED_ENTRY.c.id <= through)
    billing_entry = FEED_ENTRY.c.kind == FeedKind.BILLING_EVENT_ELIGIBLE
    candidates = (
        PlanEvent.id.in_(select(FEED_ENTRY.c.event_pk).where(*in_range, billing_entry)),
        PlanEvent.status == READY,
        ~event_held(PlanEvent.id, PlanEvent.plan_pk),  # a held event is not claimed (billing_plans.holds)
    )
    if conn.dialect.name == "postgresql":  # one lock order before claiming: see the module docstring
        conn.execute(select(PlanEvent.id).where(*candidates).order_by(PlanEvent.id).with_for_update())
    claimed = set(
        session.scalars(  # ORM-enabled so that PlanEvent objects this session holds see their new status
            update(PlanEvent)
            .where(*candidates)
            .values(status=BillingEventStatus.IN_PROGRESS.value)
            .returning(PlanEvent.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    reason = f"claimed by feed consumer {consumer} (ack through cursor {through})"
    claim = change_row(
        ObjectType.PLAN_EVENT, 0, BillingEventStatus.READY, BillingEventStatus.IN_PROGRESS, who, reason
    )
    record_changes(conn, [{**claim, "object_pk": event_pk} for event_pk in sorted(claimed)])
    conn.execute(
        update(FeedConsumer)
        .where(FeedConsumer.consumer == consumer)
        .values(acked_through=through, updated_at=who.at)
    )
    entries = conn.scalar(select(func.count()).select_from(FEED_ENTRY).where(*in_range)) or 0
    e = FEED_ENTRY.c
    rows = conn.execute(
        select(e.id, e.business_unit, e.contract_num, e.line_num, e.plan_id, e.event_num, e.amount)
        .add_columns(e.currency, e.event_pk, PlanEvent.status)
        .join(PlanEvent, PlanEvent.id == e.event_pk)
        .where(*in_range, billing_entry)
        .order_by(e.id)
    )
    billing = tuple(  # unpacked by position, as records.entry_record: once per acknowledged billing entry
        BillingHandout(
            cursor=cursor,
            event=event_key(bu, contract_num, line_num, plan_id, event_num),
            amount=amount,
            currency=currency,
            claimed=event_pk in claimed,
            status=status,
        )
        for cursor, bu, contract_num, line_num, plan_id, event_num, amount, currency, event_pk, status in rows
    )
    return AckResult(consumer, previous, through, entries, billing)
