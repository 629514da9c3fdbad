"""Reading the feed: the page of entries after a consumer's cursor, as Core rows.

A page is two statements (the cursor, then the entries by primary key range) and builds no ORM objects:
reading is the hot path of every billing system, and an ORM object per entry cost more than the rest of an
HTTP round trip together (BENCHMARKS.md, the service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from billing_plans.feed.consumers import check_consumer, cursor_of
from billing_plans.feed.records import ROW_COLUMNS
from contracts.errors import InvalidInput
from contracts.models import FeedEntry

FEED_ENTRY = cast(Table, FeedEntry.__table__)
_PAGE = select(*(FEED_ENTRY.c[name] for name in ROW_COLUMNS))


@dataclass(frozen=True)
class FeedPage:
    consumer: str
    acked_through: int
    entries: tuple[Row[Any], ...]
    """Rows of :data:`~billing_plans.feed.records.ROW_COLUMNS` (``entry.id`` is the cursor)."""


def read(session: Session, consumer: str, *, limit: int = 100) -> FeedPage:
    """The next ``limit`` entries after the consumer's cursor, oldest first. Changes nothing: reading twice
    without an acknowledgement in between returns the same entries."""
    check_consumer(consumer)
    if limit < 1:
        raise InvalidInput(f"feed read limit must be 1 or more, got {limit}")
    session.flush()  # what this session changed is visible to the Core statements below (no autoflush there)
    conn = session.connection()
    cursor = cursor_of(conn, consumer)
    entries = conn.execute(_PAGE.where(FEED_ENTRY.c.id > cursor).order_by(FEED_ENTRY.c.id).limit(limit)).all()
    return FeedPage(consumer, cursor, tuple(entries))


def published_cursor(session: Session, event_pk: int) -> int | None:
    """The cursor of the entry that announced this event as eligible, if any."""
    return session.scalar(select(FeedEntry.id).where(FeedEntry.dedupe_key == f"event:{event_pk}"))
