"""The feed (DESIGN 7): an ordered, append-only log of completed milestones and eligible plan events, read
by billing and revenue systems, each from its own cursor.

Writing
    Facts are appended by set-based ``INSERT .. SELECT`` statements in the transaction that makes them true:
    the engine calls :func:`publish_completions` in the chunk that completes the milestones and
    :func:`publish_date_events` for Date events whose date the run's as-of date has reached; the event
    services call :func:`publish_eligible_events` when a person sets a Milestone event Ready after its
    milestone completed. ``dedupe_key`` is unique and every insert is ``ON CONFLICT DO NOTHING``: a
    milestone completes once and an event becomes eligible once, so reruns publish nothing twice.

Cursor order is commit order
    A consumer's cursor is the last entry id it acknowledged, so no entry may become visible below a cursor
    someone has already read past. SQLite has one writer at a time: ids are handed out in commit order.
    A PostgreSQL sequence hands ids out at insert time instead: T1 takes 10, T2 takes 11 and commits first,
    a consumer reads and acknowledges through 11, then T1 commits 10 and that consumer never sees it. So
    every writer first takes ``LOCK TABLE feed_entry IN SHARE ROW EXCLUSIVE MODE`` (it conflicts with itself
    and with plain inserts, never with readers) and holds it to commit: feed writers take turns, and ids are
    assigned in commit order. The price is that feed writers serialize from their insert to their commit,
    which is why the engine publishes at the end of a chunk. The alternative, reading only below the oldest
    in-flight transaction (``pg_snapshot_xmin``), needs a transaction id on every row and a composite cursor;
    not worth it at the rate facts are published.

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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    String,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement

from contracts.audit import ObjectType, Who, record_change
from contracts.errors import InvalidInput, RuleViolation
from contracts.models import (
    Contract,
    ContractLine,
    FeedConsumer,
    FeedEntry,
    FeedKind,
    Milestone,
    Plan,
    PlanEvent,
)
from contracts.sql_hints import plain
from contracts.status import BillingEventStatus, EventType, MilestoneStatus, PlanType

READY = BillingEventStatus.READY.value  # the same word for revenue events
MAX_CONSUMER_NAME = 40

_COLUMNS = [
    "kind",
    "dedupe_key",
    "business_unit",
    "contract_num",
    "contract_pk",
    "milestone_pk",
    "milestone_id",
    "milestone_num",
    "completed_on",
    "line_num",
    "plan_pk",
    "plan_type",
    "plan_id",
    "event_pk",
    "event_num",
    "event_type",
    "event_date",
    "percentage",
    "amount",
    "currency",
    "as_of",
    "process_instance",
    "created_at",
]


# --- writing ----------------------------------------------------------------------------------------


def publish_completions(
    conn: Connection,
    milestone_ids: Select[Any],
    *,
    process_instance: int,
    as_of: dt.date,
    at: dt.datetime,
) -> int:
    """Append one ``milestone_completed`` entry per Completed milestone among ``milestone_ids`` (a one-column
    select of milestone pks), then one ``billing_event_eligible`` / ``revenue_event_eligible`` entry per Ready
    Milestone plan event of those milestones. Returns the number of entries appended.

    Call it after the statement that completes the milestones and as late in the transaction as possible:
    on PostgreSQL it holds the feed lock until commit (see the module docstring).
    """
    stamp = _Stamp(as_of, process_instance, at)
    appended = _append(conn, _milestone_rows(milestone_ids, stamp))
    events = _event_rows(stamp).where(
        PlanEvent.milestone_pk.in_(milestone_ids),
        PlanEvent.event_type == EventType.MILESTONE,
        Milestone.status == MilestoneStatus.COMPLETED,
    )
    return appended + _append(conn, events)


def publish_date_events(
    conn: Connection,
    *,
    business_units: Sequence[str] | None,
    as_of: dt.date,
    process_instance: int,
    at: dt.datetime,
) -> int:
    """Append an eligibility entry for every Ready Date event (of ``business_units``, or all) whose date is
    on or before ``as_of`` and that has no entry yet. Checks before locking, so a run with nothing due does
    not make other feed writers wait."""
    rows = _event_rows(_Stamp(as_of, process_instance, at)).where(
        PlanEvent.event_type == EventType.DATE, PlanEvent.event_date <= as_of
    )
    if business_units is not None:
        rows = rows.where(Contract.business_unit.in_([bu.upper() for bu in business_units]))
    if not conn.scalar(select(exists(rows.order_by(None)))):
        return 0
    return _append(conn, rows)


def publish_eligible_events(
    conn: Connection,
    event_ids: Select[Any],
    *,
    as_of: dt.date,
    at: dt.datetime,
    process_instance: int | None = None,
) -> int:
    """Append an eligibility entry for the Ready Milestone events among ``event_ids`` whose milestone is
    already Completed: a person set them Ready after the run that completed the milestone. Date events
    are left to the next run, whose as-of date decides whether their date is reached."""
    rows = _event_rows(_Stamp(as_of, process_instance, at)).where(
        PlanEvent.id.in_(event_ids),
        PlanEvent.event_type == EventType.MILESTONE,
        Milestone.status == MilestoneStatus.COMPLETED,
    )
    return _append(conn, rows)


@dataclass(frozen=True)
class _Stamp:
    as_of: dt.date
    process_instance: int | None
    at: dt.datetime

    def columns(self) -> list[ColumnElement[Any]]:
        return [
            literal(self.as_of, Date),
            literal(self.process_instance, Integer),
            literal(self.at, DateTime),
        ]


def _dedupe(prefix: str, pk: InstrumentedAttribute[int]) -> ColumnElement[str]:
    # A constant prefix, never user input; concatenation renders as || on both backends.
    return literal_column(f"'{prefix}:'", String) + cast(pk, String)


def _not_published(dedupe: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(FeedEntry.dedupe_key == dedupe)


def _milestone_rows(milestone_ids: Select[Any], stamp: _Stamp) -> Select[Any]:
    dedupe = _dedupe("milestone", Milestone.id)
    return (
        select(
            literal(FeedKind.MILESTONE_COMPLETED.value, String),
            dedupe,
            Contract.business_unit,
            Contract.contract_num,
            Contract.id,
            Milestone.id,
            Milestone.milestone_id,
            Milestone.milestone_num,
            Milestone.completed_on,
            literal(None, Integer),  # line_num
            literal(None, Integer),  # plan_pk
            literal(None, String),  # plan_type
            literal(None, String),  # plan_id
            literal(None, Integer),  # event_pk
            literal(None, Integer),  # event_num
            literal(None, String),  # event_type
            literal(None, Date),  # event_date
            literal(None, Numeric(7, 4)),  # percentage
            literal(None, Numeric(15, 2)),  # amount
            Contract.currency,
            *stamp.columns(),
        )
        .join_from(Milestone, Contract, Milestone.contract_pk == Contract.id)
        .where(
            Milestone.id.in_(milestone_ids),
            plain(Milestone.status.expression)
            == MilestoneStatus.COMPLETED,  # driven by the ids, not the status index
            _not_published(dedupe),
        )
        .order_by(Milestone.id)
    )


def _event_rows(stamp: _Stamp) -> Select[Any]:
    """Every Ready plan event not yet published, with what a billing or revenue system needs to act: the
    amount is the event's own, or its percentage of the line amount rounded to cents."""
    dedupe = _dedupe("event", PlanEvent.id)
    kind = case(
        (Plan.plan_type == PlanType.BILLING, FeedKind.BILLING_EVENT_ELIGIBLE.value),
        else_=FeedKind.REVENUE_EVENT_ELIGIBLE.value,
    )
    amount = func.coalesce(PlanEvent.amount, func.round(ContractLine.amount * PlanEvent.percentage / 100, 2))
    return (
        select(
            kind,
            dedupe,
            Contract.business_unit,
            Contract.contract_num,
            Contract.id,
            Milestone.id,
            Milestone.milestone_id,
            Milestone.milestone_num,
            Milestone.completed_on,
            ContractLine.line_num,
            Plan.id,
            Plan.plan_type,
            Plan.plan_id,
            PlanEvent.id,
            PlanEvent.event_num,
            PlanEvent.event_type,
            PlanEvent.event_date,
            PlanEvent.percentage,
            amount,
            Contract.currency,
            *stamp.columns(),
        )
        .join_from(PlanEvent, Plan, PlanEvent.plan_pk == Plan.id)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .join(Contract, ContractLine.contract_pk == Contract.id)
        .outerjoin(Milestone, PlanEvent.milestone_pk == Milestone.id)
        .where(PlanEvent.status == READY, _not_published(dedupe))
        .order_by(PlanEvent.id)
    )


def _append(conn: Connection, rows: Select[Any]) -> int:
    """The one way entries are written: under the feed lock on PostgreSQL, ignoring already-published facts.

    ``preserve_rowcount``: SQLAlchemy reads an INSERT's rowcount only when asked, and psycopg's is gone
    (-1) once the cursor is closed.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE feed_entry IN SHARE ROW EXCLUSIVE MODE"))
        pg = postgresql.insert(FeedEntry).from_select(_COLUMNS, rows)
        stmt: Executable = pg.on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif conn.dialect.name == "sqlite":
        lite = sqlite.insert(FeedEntry).from_select(_COLUMNS, rows)
        stmt = lite.on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL ship
        stmt = insert(FeedEntry).from_select(_COLUMNS, rows)
    return conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def published_cursor(session: Session, event_pk: int) -> int | None:
    """The cursor of the entry that announced this event as eligible, if any."""
    return session.scalar(select(FeedEntry.id).where(FeedEntry.dedupe_key == f"event:{event_pk}"))


# --- reading and acknowledging ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    consumer: str
    acked_through: int
    entries: tuple[FeedEntry, ...]


def read(session: Session, consumer: str, *, limit: int = 100) -> FeedPage:
    """The next ``limit`` entries after the consumer's cursor, oldest first. Changes nothing: reading twice
    without an acknowledgement in between returns the same entries."""
    _check_consumer(consumer)
    if limit < 1:
        raise InvalidInput(f"feed read limit must be 1 or more, got {limit}")
    cursor = _cursor(session, consumer)
    entries = session.scalars(
        select(FeedEntry).where(FeedEntry.id > cursor).order_by(FeedEntry.id).limit(limit)
    ).all()
    return FeedPage(consumer, cursor, tuple(entries))


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
    _check_consumer(consumer)
    if through < 0:
        raise InvalidInput(f"feed cursor must be 0 or more, got {through}")
    # Write first: on SQLite this takes the write lock before anything is read, so the transaction never
    # has to upgrade a stale read snapshot; on PostgreSQL the row lock below serializes one consumer's acks.
    _ensure_consumer(session, consumer, who.at)
    previous = session.execute(
        select(FeedConsumer.acked_through).where(FeedConsumer.consumer == consumer).with_for_update()
    ).scalar_one()
    last = session.scalar(select(func.max(FeedEntry.id))) or 0
    if through > last:
        raise RuleViolation(
            f"feed consumer {consumer}",
            f"cannot acknowledge through cursor {through}: the last entry is {last}",
        )
    if through <= previous:
        return AckResult(consumer, previous, previous, 0, ())

    in_range = (FeedEntry.id > previous, FeedEntry.id <= through)
    billing_events = select(FeedEntry.event_pk).where(
        *in_range, FeedEntry.kind == FeedKind.BILLING_EVENT_ELIGIBLE
    )
    candidates = PlanEvent.id.in_(billing_events), PlanEvent.status == READY
    # Lock in one order before claiming (PostgreSQL; SQLite renders no FOR UPDATE): see the module docstring.
    session.execute(select(PlanEvent.id).where(*candidates).order_by(PlanEvent.id).with_for_update())
    claimed = set(
        session.scalars(
            update(PlanEvent)
            .where(*candidates)
            .values(status=BillingEventStatus.IN_PROGRESS.value)
            .returning(PlanEvent.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    for event_pk in sorted(claimed):
        record_change(
            session,
            ObjectType.PLAN_EVENT,
            event_pk,
            BillingEventStatus.READY,
            BillingEventStatus.IN_PROGRESS,
            who,
            f"claimed by feed consumer {consumer} (ack through cursor {through})",
        )
    session.execute(
        update(FeedConsumer)
        .where(FeedConsumer.consumer == consumer)
        .values(acked_through=through, updated_at=who.at)
        .execution_options(synchronize_session=False)
    )
    entries = session.scalar(select(func.count()).select_from(FeedEntry).where(*in_range)) or 0
    rows = session.execute(
        select(FeedEntry, PlanEvent.status)
        .join(PlanEvent, PlanEvent.id == FeedEntry.event_pk)
        .where(*in_range, FeedEntry.kind == FeedKind.BILLING_EVENT_ELIGIBLE)
        .order_by(FeedEntry.id)
    ).all()
    billing = tuple(
        BillingHandout(
            cursor=entry.id,
            event=entry_key(entry),
            amount=entry.amount,
            currency=entry.currency,
            claimed=entry.event_pk in claimed,
            status=status,
        )
        for entry, status in rows
    )
    session.flush()
    return AckResult(consumer, previous, through, entries, billing)


@dataclass(frozen=True)
class ConsumerPosition:
    consumer: str
    acked_through: int
    waiting: int
    updated_at: dt.datetime


def consumers(session: Session) -> list[ConsumerPosition]:
    """Every consumer's cursor and how many entries wait after it."""
    waiting = (
        select(func.count())
        .select_from(FeedEntry)
        .where(FeedEntry.id > FeedConsumer.acked_through)
        .scalar_subquery()
    )
    rows = session.execute(
        select(FeedConsumer.consumer, FeedConsumer.acked_through, waiting, FeedConsumer.updated_at).order_by(
            FeedConsumer.consumer
        )
    ).all()
    return [ConsumerPosition(c, a, w, u) for c, a, w, u in rows]


def entry_key(entry: FeedEntry) -> str:
    """The key a person or program uses with the CLI: the milestone key, or the plan event key."""
    if entry.event_num is not None:
        return (
            f"{entry.business_unit}/{entry.contract_num}/{entry.line_num}/{entry.plan_id}/{entry.event_num}"
        )
    return f"{entry.business_unit}/{entry.contract_num}/{entry.milestone_id}/{entry.milestone_num}"


def entry_record(entry: FeedEntry) -> dict[str, Any]:
    """One entry as flat fields, the same for JSON lines and CSV."""
    milestone = (
        f"{entry.business_unit}/{entry.contract_num}/{entry.milestone_id}/{entry.milestone_num}"
        if entry.milestone_id is not None
        else None
    )
    return {
        "cursor": entry.id,
        "kind": entry.kind.value,
        "key": entry_key(entry),
        "business_unit": entry.business_unit,
        "contract_num": entry.contract_num,
        "milestone": milestone,
        "completed_on": entry.completed_on,
        "line_num": entry.line_num,
        "plan_type": entry.plan_type.value if entry.plan_type else None,
        "plan_id": entry.plan_id,
        "event_num": entry.event_num,
        "event_type": entry.event_type.value if entry.event_type else None,
        "event_date": entry.event_date,
        "percentage": entry.percentage,
        "amount": entry.amount,
        "currency": entry.currency,
        "as_of": entry.as_of,
        "process_instance": entry.process_instance,
        "created_at": entry.created_at,
    }


# fmt: off
FEED_FIELDS: tuple[str, ...] = (
    "cursor", "kind", "key", "business_unit", "contract_num", "milestone", "completed_on", "line_num",
    "plan_type", "plan_id", "event_num", "event_type", "event_date", "percentage", "amount", "currency",
    "as_of", "process_instance", "created_at",
)
# fmt: on
"""The columns of ``feed read --format csv``, in :func:`entry_record` order."""


def _check_consumer(consumer: str) -> None:
    if not consumer.strip() or len(consumer) > MAX_CONSUMER_NAME:
        raise InvalidInput(f"feed consumer name {consumer!r} must be 1 to {MAX_CONSUMER_NAME} characters")


def _cursor(session: Session, consumer: str) -> int:
    return session.scalar(select(FeedConsumer.acked_through).where(FeedConsumer.consumer == consumer)) or 0


def _ensure_consumer(session: Session, consumer: str, at: dt.datetime) -> None:
    values = {"consumer": consumer, "acked_through": 0, "updated_at": at}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(
            postgresql.insert(FeedConsumer).values(values).on_conflict_do_nothing(index_elements=["consumer"])
        )
    elif conn.dialect.name == "sqlite":
        conn.execute(
            sqlite.insert(FeedConsumer).values(values).on_conflict_do_nothing(index_elements=["consumer"])
        )
    elif session.get(FeedConsumer, consumer) is None:  # pragma: no cover - only SQLite and PostgreSQL ship
        session.add(FeedConsumer(**values))
        session.flush()
