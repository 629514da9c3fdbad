"""Writing the feed (DESIGN 7): facts are appended in the transaction that makes them true.

Facts are appended by set-based ``INSERT .. SELECT`` statements: the engine calls :func:`publish_completions`
in the chunk that completes the milestones and :func:`publish_date_events` for Date events whose date the
run's as-of date has reached; the event services call :func:`publish_eligible_events` when a person sets a
Milestone event Ready after its milestone completed. ``dedupe_key`` is unique and every insert is
``ON CONFLICT DO NOTHING``: a milestone completes once and an event becomes eligible once, so reruns
publish nothing twice.

Holds and undos (issue 16)
    An event on hold (:mod:`billing_plans.hold_scope`) is neither announced nor claimed; releasing the hold
    announces what became eligible meanwhile (:func:`publish_released`). A reversal or a credit is an entry
    of its own (:func:`publish_undo`), never an edit of the entry that announced the event.

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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement

from billing_plans.hold_scope import event_held
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
from contracts.sql_hints import among, plain
from contracts.status import BillingEventStatus, EventType, MilestoneStatus, PlanType

READY = BillingEventStatus.READY.value  # the same word for revenue events

CONTENT_COLUMNS: tuple[str, ...] = (
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
)
"""The columns that say what an entry is (not when or by which run it was written): the end-state
comparison of a benchmark run digests these."""

_COLUMNS = [*CONTENT_COLUMNS, "process_instance", "created_at"]


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

    The milestones have just completed, so their facts are new: no "not published yet" probe per row (one
    probe of the feed's key index per entry, a third of the statement on a feed of millions); the unique
    ``dedupe_key`` with ``ON CONFLICT DO NOTHING`` still keeps a milestone completed again after a reopen,
    or an event a hold's release announced already, to one entry.
    """
    stamp = _Stamp(as_of, process_instance, at)
    appended = _append(conn, _milestone_rows(milestone_ids, stamp))
    events = _event_rows(stamp, probe=False).where(
        among(PlanEvent.milestone_pk.expression, milestone_ids),
        PlanEvent.event_type == EventType.MILESTONE,
        plain(Milestone.status.expression) == MilestoneStatus.COMPLETED,
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


def _milestone_columns(
    kind: ColumnElement[str], dedupe: ColumnElement[str]
) -> tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]:
    """The first columns of every entry, in the order of :data:`CONTENT_COLUMNS`: its kind and key, the
    contract and the milestone (an event entry names its milestone too, when it has one)."""
    return (
        kind,
        dedupe,
        Contract.business_unit,
        Contract.contract_num,
        Contract.id,
        Milestone.id,
        Milestone.milestone_id,
        Milestone.milestone_num,
        Milestone.completed_on,
    )


def _milestone_rows(milestone_ids: Select[Any], stamp: _Stamp) -> Select[Any]:
    dedupe = _dedupe("milestone", Milestone.id)
    return (
        select(
            *_milestone_columns(literal(FeedKind.MILESTONE_COMPLETED.value, String), dedupe),
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
            among(Milestone.id.expression, milestone_ids),
            plain(Milestone.status.expression)
            == MilestoneStatus.COMPLETED,  # driven by the ids, not the status index
        )
        .order_by(Milestone.id)
    )


def _event_rows(stamp: _Stamp, *, probe: bool = True) -> Select[Any]:
    """Every Ready plan event not on hold and not yet published, with what a billing or revenue system needs
    to act (see :func:`_event_select`). ``probe=False``: the caller knows the events' facts are new, and
    leaves a repeat to ``ON CONFLICT DO NOTHING`` instead of probing the feed for each row."""
    dedupe = _dedupe("event", PlanEvent.id)
    kind = case(
        (Plan.plan_type == PlanType.BILLING, FeedKind.BILLING_EVENT_ELIGIBLE.value),
        else_=FeedKind.REVENUE_EVENT_ELIGIBLE.value,
    )
    return _event_select(stamp, kind, dedupe).where(
        PlanEvent.status == READY,
        ~event_held(PlanEvent.id, PlanEvent.plan_pk, Contract.id),
        *([_not_published(dedupe)] if probe else []),
    )


def _event_select(
    stamp: _Stamp, kind: ColumnElement[str], dedupe: ColumnElement[str], *, sign: int = 1
) -> Select[Any]:
    """The columns of an event entry: the amount is the event's own, or its percentage of the line amount
    rounded to cents; ``sign=-1`` for reversals and credits, which undo that amount."""
    amount = func.coalesce(PlanEvent.amount, func.round(ContractLine.amount * PlanEvent.percentage / 100, 2))
    return (
        select(
            *_milestone_columns(kind, dedupe),
            ContractLine.line_num,
            Plan.id,
            Plan.plan_type,
            Plan.plan_id,
            PlanEvent.id,
            PlanEvent.event_num,
            PlanEvent.event_type,
            PlanEvent.event_date,
            PlanEvent.percentage,
            amount if sign > 0 else -amount,
            Contract.currency,
            *stamp.columns(),
        )
        .join_from(PlanEvent, Plan, PlanEvent.plan_pk == Plan.id)
        .join(ContractLine, Plan.contract_line_pk == ContractLine.id)
        .join(Contract, ContractLine.contract_pk == Contract.id)
        .outerjoin(Milestone, PlanEvent.milestone_pk == Milestone.id)
        .order_by(PlanEvent.id)
    )


def publish_released(
    conn: Connection,
    event_ids: Select[Any],
    *,
    as_of: dt.date,
    at: dt.datetime,
    process_instance: int | None = None,
) -> int:
    """Announce what a released hold kept back, among ``event_ids``: each Ready event no longer held whose
    milestone is Completed, or (a Date event) whose date is on or before ``as_of``, once (the usual dedupe
    key). An event announced *before* its hold and still Ready is announced again (dedupe
    ``rel:<event>:<release time>``) when a consumer has acknowledged its first entry meanwhile: that
    acknowledgement could not claim it, and the cursor is past it. Claims stay exactly-once (the second
    acknowledgement finds the event In Progress)."""
    stamp = _Stamp(as_of, process_instance, at)
    fresh = _event_rows(stamp).where(
        PlanEvent.id.in_(event_ids),
        or_(
            and_(PlanEvent.event_type == EventType.MILESTONE, Milestone.status == MilestoneStatus.COMPLETED),
            and_(PlanEvent.event_type == EventType.DATE, PlanEvent.event_date <= as_of),
        ),
    )
    appended = _append(conn, fresh)
    first = aliased(FeedEntry)
    again = literal_column("'rel:'", String) + cast(PlanEvent.id, String) + literal(f":{at:%Y%m%d%H%M%S%f}")
    kind = case(
        (Plan.plan_type == PlanType.BILLING, FeedKind.BILLING_EVENT_ELIGIBLE.value),
        else_=FeedKind.REVENUE_EVENT_ELIGIBLE.value,
    )
    repeat = _event_select(stamp, kind, again).where(
        PlanEvent.id.in_(event_ids),
        PlanEvent.status == READY,
        ~event_held(PlanEvent.id, PlanEvent.plan_pk, Contract.id),
        exists().where(
            first.dedupe_key == _dedupe("event", PlanEvent.id),
            exists().where(FeedConsumer.acked_through >= first.id),
        ),
        _not_published(again),
    )
    return appended + _append(conn, repeat)


def publish_undo(
    conn: Connection,
    event_ids: Select[Any],
    kind: FeedKind,
    *,
    as_of: dt.date,
    at: dt.datetime,
) -> int:
    """One ``revenue_event_reversed`` or ``billing_event_credited`` entry per event among ``event_ids``,
    with the event's amount negated. Reversed and Credited are final, so the dedupe key
    (``reversed:<event>`` / ``credited:<event>``) makes each undo a single entry."""
    prefix = "reversed" if kind == FeedKind.REVENUE_EVENT_REVERSED else "credited"
    dedupe = _dedupe(prefix, PlanEvent.id)
    rows = _event_select(_Stamp(as_of, None, at), literal(kind.value, String), dedupe, sign=-1).where(
        PlanEvent.id.in_(event_ids), _not_published(dedupe)
    )
    return _append(conn, rows)


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
